import type { Command } from 'commander';
import { proveTlog } from '../../../audit/index.js';
import { InputError, writeFileAtomic } from '../../../common/index.js';
import { printJson } from '../../output.js';
import { action, withJson } from '../../program.js';
import { store, withStore, type StoreOptions } from './shared.js';

export function registerProve(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('prove')
        .description(
          'inclusion proof of one record against the newest checkpoint the witnesses cosigned that contains it (else the newest), with their cosignatures',
        )
        .argument('<recordId>')
        .option('--format <format>', 'json (charter.audit.inclusion-proof/v1) or tlog-proof (C2SP c2sp.org/tlog-proof@v1 text)', 'json')
        .option('--out <file>', 'write the proof here (default stdout); .tlog-proof is the usual extension for tlog-proof'),
    ),
  ).action(
    action(async (recordId: string, opts: StoreOptions & { out?: string; format: string }) => {
      if (!['json', 'tlog-proof'].includes(opts.format))
        throw new InputError(`unknown format '${opts.format}' (json, tlog-proof)`, { field: '--format' });
      const { text, proof } = await proveTlog({ ...store(opts), recordId });
      const out = opts.format === 'tlog-proof' ? text : JSON.stringify(proof, null, 2) + '\n';
      if (opts.out) writeFileAtomic(opts.out, out);
      else if (opts.format === 'tlog-proof') process.stdout.write(out);
      else printJson(proof);
    }),
  );
}
