import type { Command } from 'commander';
import { sinkFromUri, verifyAuditLog, verifyEvidenceBundle } from '../../../audit/index.js';
import { ExitCode, InputError, parseJson, readText } from '../../../common/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import {
  auditorKeys,
  store,
  witnessPolicy,
  withStore,
  withWitnessPolicy,
  type AuditorKeys,
  type StoreOptions,
  type WitnessPolicyOptions,
} from './shared.js';

interface VerifyOptions extends StoreOptions, WitnessPolicyOptions {
  trustedKeys?: string;
  cosignatures?: string;
  bundle?: string;
  anchor?: string;
  json?: boolean;
}

const untrustedLine = (keys: AuditorKeys): string => (keys.trusted ? '' : `UNTRUSTED: ${keys.reason}`);

function verifyBundle(file: string, keys: AuditorKeys, json: boolean): number {
  const report = verifyEvidenceBundle(parseJson(readText(file), file), keys.trusted ? keys.keys : undefined, file);
  if (json) printJson(keys.trusted ? report : { ...report, untrusted: keys.reason });
  else {
    const status = report.findings.length > 0 ? 'FAILED' : report.ok ? 'OK' : 'UNTRUSTED';
    printLine(
      `${status}: ${report.records} record(s) in the period (${report.recordsInSegments} in the segments covering it) of ${report.origin}, complete against tree size ${report.treeSize} (${report.checkpoints} checkpoints), signed by ${report.signedBy.join(', ')}${keys.trusted ? '' : ' (a key from the bundle itself)'}`,
    );
    for (const f of report.findings) printLine(`  - ${f}`);
    if (!keys.trusted) printLine(untrustedLine(keys));
  }
  return report.ok ? ExitCode.ok : ExitCode.findings;
}

async function verifyLog(opts: VerifyOptions, keys: AuditorKeys): Promise<number> {
  const { dir, sink } = store(opts);
  const witnesses = witnessPolicy(opts, keys.keys);
  const report = await verifyAuditLog({
    sink,
    trustedKeys: keys.keys,
    stateDir: dir,
    ...(opts.anchor ? { anchor: readText(opts.anchor) } : {}),
    ...(witnesses ? { witnesses } : {}),
    ...(opts.cosignatures ? { cosignatures: sinkFromUri(opts.cosignatures, opts.s3Endpoint ? { endpoint: opts.s3Endpoint } : {}) } : {}),
  });
  const ok = report.ok && keys.trusted;
  if (opts.json) printJson({ ...report, ok, trusted: keys.trusted, ...(keys.trusted ? {} : { untrusted: keys.reason }) });
  else {
    const status = !report.ok ? 'FAILED' : keys.trusted ? 'OK' : 'UNTRUSTED';
    printLine(
      `${status}: ${report.location}: ${report.records} record(s) in ${report.segments} segment(s), tree size ${report.treeSize}, ${report.checkpoints} checkpoint(s) signed by ${report.signedBy.join(', ') || 'nobody trusted'}${witnesses ? `, newest cosigned by a quorum of ${witnesses.quorum} of ${witnesses.witnesses.length} witness(es) required` : ''} (${report.elapsedMs} ms)`,
    );
    for (const f of report.findings) printLine(`  - [${f.kind}] ${f.message}`);
    for (const w of report.warnings) printLine(`  ! ${w}`);
    if (!keys.trusted) printLine(untrustedLine(keys));
  }
  return ok ? ExitCode.ok : ExitCode.findings;
}

export function registerVerify(audit: Command): void {
  withJson(
    withWitnessPolicy(
      withStore(
        audit
          .command('verify')
          .description(
            'verify the whole log (hash chain, Merkle roots, signed checkpoints, consistency, seq gaps), or an evidence bundle offline',
          )
          .option('--trusted-keys <file>', 'trusted keys from outside the trail (default: the file named by $CHARTER_AUDIT_TRUSTED_KEYS)')
          .option('--bundle <file>', 'verify an exported evidence bundle instead of the log')
          .option(
            '--anchor <file>',
            "a tree seen earlier that the log must still contain (detects truncation and rewriting): a checkpoint note, or '<tree size> <base64 root>' at any size",
          )
          .option('--cosignatures <uri>', 'where the witnesses stored their cosignatures (default: the log sink)'),
      ),
    ),
  ).action(
    action(async (opts: VerifyOptions) => {
      const keys = auditorKeys(opts.trustedKeys);
      // Bundles carry no cosignatures yet: a witness requirement must not pass unchecked.
      if (opts.bundle && (opts.witnessKey || opts.witnessQuorum))
        throw new InputError('--witness-key/--witness-quorum cannot be checked on a bundle (bundles carry no cosignatures yet)', {
          field: '--witness-key',
        });
      return opts.bundle ? verifyBundle(opts.bundle, keys, Boolean(opts.json)) : verifyLog(opts, keys);
    }),
  );
}
