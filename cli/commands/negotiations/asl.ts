import type { Command } from 'commander';
import { writeFileAtomic } from '../../../common/index.js';
import { exportAsl, validateAsl } from '../../../orchestrator/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';

export function registerAsl(cmd: Command): void {
  withJson(cmd.command('asl').description('export the DAG as an AWS Step Functions state machine (ASL), checked by asl-validator'))
    .option('--out <file>', 'write the definition here (default stdout)')
    .action(
      action((opts: { out?: string; json?: boolean }) => {
        const definition = exportAsl();
        validateAsl(definition);
        const text = JSON.stringify(definition, null, 2) + '\n';
        if (opts.out) writeFileAtomic(opts.out, text);
        if (opts.json) printJson({ ok: true, valid: true, ...(opts.out ? { file: opts.out } : { definition }) });
        else if (opts.out) printLine(`valid ASL written to ${opts.out} (${Object.keys(definition.States).length} states)`);
        else process.stdout.write(text);
        return 0;
      }),
    );
}
