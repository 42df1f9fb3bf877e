import type { Command } from 'commander';
import { printJson, printTable } from '../../output.js';
import { action } from '../../program.js';
import { onHome, SUMMARY_HEAD, summaryRow, withWorld, type HomeFlags } from './shared.js';

export function registerList(cmd: Command): void {
  withWorld(cmd.command('list').description("a tenant's negotiations and their status")).action(
    action((opts: HomeFlags) =>
      onHome(opts, (h) => {
        const all = h.stack.store.list({ tenantId: opts.tenant });
        if (opts.json) printJson({ ok: true, negotiations: all });
        else printTable(SUMMARY_HEAD, all.map(summaryRow));
        return 0;
      }),
    ),
  );
}
