import type { Command } from 'commander';
import { z } from 'zod';
import { InputError, readJson } from '../../../common/index.js';
import { sampleRequisition } from '../../../orchestrator/index.js';
import { action } from '../../program.js';
import { AGENT_PROCESSES_HELP, onHome, report, withWorld, type HomeFlags } from './shared.js';

export function registerRun(cmd: Command): void {
  withWorld(cmd.command('run').description('submit a requisition (JSON file, or --sample N) and run it through the DAG'))
    .option('--file <requisition.json>', 'the purchase requisition')
    .option('--sample <n>', 'use the n-th sample requisition of the tenant instead of a file')
    .option('--agent-processes', AGENT_PROCESSES_HELP)
    .action(
      action(async (opts: HomeFlags & { file?: string; sample?: string }) => {
        if (Boolean(opts.file) === Boolean(opts.sample))
          throw new InputError('give exactly one of --file or --sample', { field: '--file' });
        const sample = z.coerce.number().int().nonnegative().safeParse(opts.sample);
        if (opts.sample && !sample.success)
          throw new InputError(`--sample must be a non-negative integer, got '${opts.sample}'`, { field: '--sample' });
        const requisition = opts.file ? readJson(opts.file, z.unknown()) : sampleRequisition(opts.tenant, sample.data!);
        return onHome(opts, async (h) => report(await h.stack.orchestrator.negotiate(opts.tenant, requisition), opts.json));
      }),
    );
}
