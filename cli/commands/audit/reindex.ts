import type { Command } from 'commander';
import { rebuildIndex } from '../../../audit/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { store, withStore, type StoreOptions } from './shared.js';

export function registerReindex(audit: Command): void {
  withJson(withStore(audit.command('reindex').description('rebuild the SQLite index from the segments'))).action(
    action(async (opts: StoreOptions & { json?: boolean }) => {
      const treeSize = await rebuildIndex(store(opts));
      if (opts.json) printJson({ ok: true, treeSize });
      else printLine(`index rebuilt: ${treeSize} record(s)`);
    }),
  );
}
