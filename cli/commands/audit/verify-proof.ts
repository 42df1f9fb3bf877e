import type { Command } from 'commander';
import { InclusionProof, requireCosignatures, TLOG_PROOF_HEADER, verifyInclusionProof, verifyTlogProof } from '../../../audit/index.js';
import { ExitCode, parseJson, readText } from '../../../common/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { auditorKeys, witnessPolicy, withWitnessPolicy, type WitnessPolicyOptions } from './shared.js';

export function registerVerifyProof(audit: Command): void {
  withJson(
    withWitnessPolicy(
      audit
        .command('verify-proof')
        .description('verify an inclusion proof offline (JSON, or C2SP tlog-proof text) with the public key(s) and the witnesses required')
        .argument('<file>')
        .option('--trusted-keys <file>', 'trusted keys from outside the trail (default: the file named by $CHARTER_AUDIT_TRUSTED_KEYS)'),
    ),
  ).action(
    action(async (file: string, opts: WitnessPolicyOptions & { trustedKeys?: string; json?: boolean }) => {
      const keys = auditorKeys(opts.trustedKeys);
      const policy = witnessPolicy(opts, keys.keys);
      const text = readText(file);
      let result;
      if (text.startsWith(`${TLOG_PROOF_HEADER}\n`)) result = verifyTlogProof(text, keys.keys, policy, file);
      else {
        const input = parseJson(text, file);
        result = verifyInclusionProof(input, keys.keys, file);
        requireCosignatures(InclusionProof.parse(input).checkpoint, policy, file);
      }
      const witnessed = policy ? { witnessQuorum: policy.quorum, witnesses: policy.witnesses.map((w) => w.name) } : {};
      if (opts.json)
        printJson({
          ok: keys.trusted,
          trusted: keys.trusted,
          ...result,
          ...witnessed,
          ...(keys.trusted ? {} : { untrusted: keys.reason }),
        });
      else {
        printLine(
          `${keys.trusted ? 'OK' : 'UNTRUSTED'}: record ${result.recordId} is leaf ${result.seq} of ${result.origin} at tree size ${result.treeSize}, checkpoint signed by ${result.signedBy}${policy ? ` and cosigned by at least ${policy.quorum} of ${policy.witnesses.map((w) => w.name).join(', ')}` : ''}`,
        );
        if (!keys.trusted) printLine(`UNTRUSTED: ${keys.reason}`);
      }
      return keys.trusted ? ExitCode.ok : ExitCode.findings;
    }),
  );
}
