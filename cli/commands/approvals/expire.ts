import type { Command } from 'commander';
import { printJson, printLine } from '../../output.js';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { store, withDir, type StoreOpts } from './shared.js';

export function registerExpire(approvals: Command): void {
  withExamples(withDir(approvals.command('expire').description('mark every request past its expiry as expired')), [
    'charter approvals expire',
  ]).action(
    action((opts: StoreOpts) => {
      const changed = store(opts).expire();
      if (opts.json) return printJson({ ok: true, expired: changed.map((r) => r.id) });
      printLine(`${changed.length} request(s) expired`);
    }),
  );
}
