import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FindingError, writeFileAtomic } from '../../common/index.js';
import { printJson, printLine } from '../output.js';
import { action, withJson } from '../program.js';
import { allSchemas, schemaFiles, schemasDir } from '../schemas.js';

export function registerSchemas(program: Command): void {
  withJson(
    program
      .command('schemas')
      .description(
        'write the JSON Schemas of every YAML file you write (packs, tests, tools, eval suites, gate environments, tenants, judge, data cards), generated from the schemas Charter loads them with',
      ),
  )
    .option('--out <dir>', 'folder to write <kind>.schema.json into (default: the schemas/ folder of the package)')
    .option('--check', 'write nothing; exit 1 when a file in the folder is missing or differs (CI: the schemas are current)')
    .addHelpText(
      'after',
      '\nReference a schema from a YAML file (VS Code YAML, JetBrains, any yaml-language-server editor):\n  # yaml-language-server: $schema=../../schemas/pack.schema.json\n',
    )
    .action(
      action(async (opts: { out?: string; check?: boolean; json?: boolean }) => {
        const files = schemaFiles(await allSchemas(), opts.out ?? schemasDir());
        if (opts.check) {
          const stale = files.filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.text).map((f) => f.path);
          if (stale.length > 0)
            throw new FindingError(`${stale.length} schema file(s) are not current: run charter schemas`, undefined, stale);
          if (opts.json) printJson({ ok: true, current: files.map((f) => f.path) });
          else printLine(`${files.length} schema files are current`);
          return 0;
        }
        for (const f of files) writeFileAtomic(f.path, f.text);
        if (opts.json) printJson({ ok: true, written: files.map((f) => f.path) });
        else for (const f of files) printLine(`wrote ${f.path}`);
        return 0;
      }),
    );
}
