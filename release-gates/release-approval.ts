import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage, readText, validateWith, writeFileAtomic } from '../common/index.js';
import {
  canonicalJson,
  digestOf,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type Signer,
  type TrustedKeysFile,
} from '../signing/index.js';
import { envelopeText } from '../policy-packs/index.js';
import { Environment } from './gate-definition.js';

export const RELEASE_APPROVAL_PAYLOAD_TYPE = 'application/vnd.charter.release-approval+json';

/**
 * A release approval (DSSE, key purpose `approval`): one approver, one manifest digest, one
 * environment. It may also accept named replay flips (decision record ids) that would otherwise
 * block, and waive named checks that could not run (e.g. `dependencies` when the advisory
 * database cannot be reached, `evals:<suite>/<metric>` when no judge model is configured), each
 * with its reason: accepting a risk is an explicit, signed act.
 */
export const ReleaseApproval = z.strictObject({
  apiVersion: z.literal('charter.dev/v1'),
  kind: z.literal('ReleaseApproval'),
  environment: Environment,
  agent: z.string().min(1),
  manifestDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  acceptReplayFlips: z.array(z.string().min(1)).default([]),
  waivers: z
    .array(
      z.strictObject({
        check: z.string().regex(/^[a-z]+(:\S+)?$/, 'a gate name, or gate:item'),
        reason: z.string().min(1, 'a waiver needs its reason'),
      }),
    )
    .default([]),
  note: z.string().default(''),
  approvedAt: z.string().datetime(),
});
export type ReleaseApproval = z.infer<typeof ReleaseApproval>;

export interface VerifiedApproval {
  approval: ReleaseApproval;
  /** The trusted key's name: the approver. */
  approver: string;
  keyId: string;
  digest: string;
  file: string;
}

export async function signReleaseApproval(
  approval: ReleaseApproval,
  signer: Signer,
  dir: string,
): Promise<{ file: string; digest: string }> {
  const payload = Buffer.from(canonicalJson(ReleaseApproval.parse(approval)));
  const envelope = await signEnvelope(RELEASE_APPROVAL_PAYLOAD_TYPE, payload, [signer]);
  const file = join(dir, `${approval.manifestDigest.slice(7, 23)}-${signer.keyId.slice(0, 16)}.dsse.json`);
  writeFileAtomic(file, envelopeText(envelope));
  return { file, digest: digestOf(payload) };
}

/**
 * Loads approvals from files; each that does not verify, or is for another manifest, agent or
 * environment, is returned as a problem (it counts for nothing).
 */
export function loadReleaseApprovals(
  files: string[],
  trusted: TrustedKeysFile,
  bind: { environment: Environment; agent: string; manifestDigest: string },
): { approvals: VerifiedApproval[]; problems: string[] } {
  const approvals: VerifiedApproval[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      const { payload, signedBy } = verifyEnvelope(parseEnvelope(readText(file), file), trusted, {
        payloadType: RELEASE_APPROVAL_PAYLOAD_TYPE,
        purpose: 'approval',
      });
      const approval = validateWith(ReleaseApproval, JSON.parse(payload.toString('utf8')), `${file} (payload)`);
      const mismatch = (['environment', 'agent', 'manifestDigest'] as const).filter((k) => approval[k] !== bind[k]);
      if (mismatch.length) {
        problems.push(
          `${file}: approval is for ${mismatch.map((k) => `${k} ${approval[k]}`).join(', ')}, not ${mismatch.map((k) => bind[k]).join(', ')}`,
        );
        continue;
      }
      for (const key of signedBy) approvals.push({ approval, approver: key.name, keyId: key.keyId, digest: digestOf(payload), file });
    } catch (err) {
      problems.push(`${file}: ${errorMessage(err)}`);
    }
  }
  return { approvals, problems };
}

export function approvalFilesIn(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.dsse.json'))
        .sort()
        .map((f) => join(dir, f))
    : [];
}
