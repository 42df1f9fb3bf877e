import type { Command } from 'commander';
import { proveInclusion } from '../../../audit/index.js';
import { writeFileAtomic } from '../../../common/index.js';
import { printJson } from '../../output.js';
import { action, withJson } from '../../program.js';
import { store, withStore, type StoreOptions } from './shared.js';

export function registerProve(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('prove')
        .description('inclusion proof of one record against the newest signed checkpoint')
        .argument('<recordId>')
        .option('--out <file>', 'write the proof here (default stdout)'),
    ),
  ).action(
    action(async (recordId: string, opts: StoreOptions & { out?: string }) => {
      const proof = await proveInclusion({ ...store(opts), recordId });
      if (opts.out) writeFileAtomic(opts.out, JSON.stringify(proof, null, 2) + '\n');
      else printJson(proof);
    }),
  );
}
