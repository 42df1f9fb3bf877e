import type { Command } from 'commander';
import { printJson, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';
import { withExamples, withPackSearch, workspaceOf, type SearchOptions } from './shared.js';

export function registerValidate(packs: Command): void {
  const cmd = withPackSearch(
    withJson(
      packs
        .command('validate')
        .description(
          'load, resolve and compose every pack (composition rules, strict Cedar validation); exit 1 on a policy error, 2 on bad input',
        ),
    ),
  );
  withExamples(cmd, ['charter packs validate', 'charter packs validate --packs ./my-packs']).action(
    action((opts: SearchOptions & { json?: boolean }) => {
      const ws = workspaceOf(opts);
      const sets = ws.composeAll().map((s) => ({
        root: s.root.key,
        layer: s.root.meta.layer,
        packs: s.set.packs.map((p) => p.key),
        policies: s.set.policies.size,
        tools: s.set.tools.length,
      }));
      if (opts.json) printJson({ ok: true, sets });
      else
        printTable(
          ['pack', 'layer', 'composed set', 'policies', 'tools'],
          sets.map((s) => [s.root, s.layer, s.packs.join(' '), s.policies, s.tools]),
        );
    }),
  );
}
