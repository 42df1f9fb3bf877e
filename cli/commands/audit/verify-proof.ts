import type { Command } from 'commander';
import { verifyInclusionProof } from '../../../audit/index.js';
import { ExitCode, parseJson, readText } from '../../../common/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { auditorKeys } from './shared.js';

export function registerVerifyProof(audit: Command): void {
  withJson(
    audit
      .command('verify-proof')
      .description('verify an inclusion proof offline with the public key(s)')
      .argument('<file>')
      .option('--trusted-keys <file>', 'trusted keys from outside the trail (default: the file named by $CHARTER_AUDIT_TRUSTED_KEYS)'),
  ).action(
    action(async (file: string, opts: { trustedKeys?: string; json?: boolean }) => {
      const keys = auditorKeys(opts.trustedKeys);
      const result = verifyInclusionProof(parseJson(readText(file), file), keys.keys, file);
      if (opts.json) printJson({ ok: keys.trusted, trusted: keys.trusted, ...result, ...(keys.trusted ? {} : { untrusted: keys.reason }) });
      else {
        printLine(
          `${keys.trusted ? 'OK' : 'UNTRUSTED'}: record ${result.recordId} is leaf ${result.seq} of ${result.origin} at tree size ${result.treeSize}, checkpoint signed by ${result.signedBy}`,
        );
        if (!keys.trusted) printLine(`UNTRUSTED: ${keys.reason}`);
      }
      return keys.trusted ? ExitCode.ok : ExitCode.findings;
    }),
  );
}
