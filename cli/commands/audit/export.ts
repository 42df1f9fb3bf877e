import type { Command } from 'commander';
import { exportEvidenceBundle } from '../../../audit/index.js';
import { writeFileAtomic } from '../../../common/index.js';
import { loadTrustedKeys } from '../../../signing/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { homeTrustedKeys, store, withStore, type StoreOptions } from './shared.js';

interface ExportOptions extends StoreOptions {
  tenant: string;
  from?: string;
  to?: string;
  out: string;
  trustedKeys?: string;
  json?: boolean;
}

export function registerExport(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('export')
        .description('evidence bundle for one tenant and time range: records, inclusion proofs, checkpoint, public key')
        .requiredOption('--tenant <id>')
        .option('--from <time>', 'inclusive, ISO-8601')
        .option('--to <time>', 'exclusive, ISO-8601')
        .requiredOption('--out <file>')
        .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)'),
    ),
  ).action(
    action(async (opts: ExportOptions) => {
      const bundle = await exportEvidenceBundle({
        ...store(opts),
        tenant: opts.tenant,
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        trustedKeys: loadTrustedKeys(opts.trustedKeys ?? homeTrustedKeys()),
      });
      writeFileAtomic(opts.out, JSON.stringify(bundle, null, 2) + '\n');
      if (opts.json) printJson({ ok: true, out: opts.out, records: bundle.records.length, treeSize: bundle.treeSize });
      else printLine(`wrote ${opts.out}: ${bundle.records.length} record(s) with proofs against tree size ${bundle.treeSize}`);
    }),
  );
}
