import type { Command } from 'commander';
import { sinkFromUri, verifyAuditLog, verifyEvidenceBundle, type WitnessPolicy } from '../../../audit/index.js';
import { ExitCode, parseJson, readText } from '../../../common/index.js';
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

/** How far the witness quorum vouches, for the summary line. */
const witnessedText = (witnessed: { treeSize: number } | undefined, policy: WitnessPolicy | undefined): string =>
  witnessed && policy
    ? `, witnessed by a quorum of ${policy.quorum} of ${policy.witnesses.length} witness(es) ${witnessed.treeSize > 0 ? `up to tree size ${witnessed.treeSize}` : 'nowhere'}`
    : '';

function verifyBundle(file: string, opts: VerifyOptions, keys: AuditorKeys): number {
  const json = Boolean(opts.json);
  const witnesses = witnessPolicy(opts, keys.keys);
  const report = verifyEvidenceBundle(parseJson(readText(file), file), keys.trusted ? keys.keys : undefined, file, witnesses);
  if (json) printJson(keys.trusted ? report : { ...report, untrusted: keys.reason });
  else {
    const status = report.findings.length > 0 ? 'FAILED' : report.ok ? 'OK' : 'UNTRUSTED';
    printLine(
      `${status}: ${report.records} record(s) in the period (${report.recordsInSegments} in the segments covering it) of ${report.origin}, complete against tree size ${report.treeSize} (${report.checkpoints} checkpoints), signed by ${report.signedBy.join(', ')}${keys.trusted ? '' : ' (a key from the bundle itself)'}${witnessedText(report.witnessed, witnesses)}`,
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
      `${status}: ${report.location}: ${report.records} record(s) in ${report.segments} segment(s), tree size ${report.treeSize}, ${report.checkpoints} checkpoint(s) signed by ${report.signedBy.join(', ') || 'nobody trusted'}${witnessedText(report.witnessed, witnesses)} (${report.elapsedMs} ms)`,
    );
    const w = report.witnessed;
    if (w && w.treeSize > 0 && w.unwitnessedRecords > 0)
      printLine(
        `  NOT YET WITNESSED: records ${w.treeSize}..${w.treeSize + w.unwitnessedRecords - 1} (${w.unwitnessedRecords}) came after the newest checkpoint the witnesses' quorum cosigned: they verify against the log key only; run the witnesses, then verify again`,
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
      return opts.bundle ? verifyBundle(opts.bundle, opts, keys) : verifyLog(opts, keys);
    }),
  );
}
