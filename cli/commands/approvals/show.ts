import type { Command } from 'commander';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { print, store, withDir, type StoreOpts } from './shared.js';

export function registerShow(approvals: Command): void {
  withExamples(withDir(approvals.command('show <id>').description('show one request')), [
    'charter approvals show REQUEST_ID --json',
  ]).action(
    action((id: string, opts: StoreOpts) => {
      print(store(opts).get(id), opts.json);
    }),
  );
}
