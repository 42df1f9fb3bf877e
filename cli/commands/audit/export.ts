import type { Command } from 'commander';
import { bundleRecords, exportEvidenceBundle, sinkFromUri } from '../../../audit/index.js';
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
  cosignatures?: string;
  json?: boolean;
}

export function registerExport(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('export')
        .description('evidence bundle for one tenant and time range: every record, with what proves each is in the log and none is missing')
        .requiredOption('--tenant <id>')
        .option('--from <time>', 'inclusive, ISO-8601')
        .option('--to <time>', 'exclusive, ISO-8601')
        .requiredOption('--out <file>')
        .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
        .option('--cosignatures <uri>', 'where the witnesses stored their cosignatures (default: the log sink); they go into the bundle'),
    ),
  ).action(
    action(async (opts: ExportOptions) => {
      const bundle = await exportEvidenceBundle({
        ...store(opts),
        tenant: opts.tenant,
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        trustedKeys: loadTrustedKeys(opts.trustedKeys ?? homeTrustedKeys()),
        ...(opts.cosignatures
          ? { cosignatures: sinkFromUri(opts.cosignatures, opts.s3Endpoint ? { endpoint: opts.s3Endpoint } : {}) }
          : {}),
      });
      writeFileAtomic(opts.out, JSON.stringify(bundle) + '\n');
      const records = bundleRecords(bundle).length;
      if (opts.json) printJson({ ok: true, out: opts.out, records, treeSize: bundle.treeSize });
      else
        printLine(
          `wrote ${opts.out}: ${records} record(s) of ${opts.tenant} from the segments overlapping the period, complete against tree size ${bundle.treeSize}`,
        );
    }),
  );
}
