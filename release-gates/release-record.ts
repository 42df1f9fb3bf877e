import { z } from 'zod';
import {
  canonicalJson,
  digestOf,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type Signer,
  type TrustedKeysFile,
} from '../signing/index.js';
import { FindingError, validateWith } from '../common/index.js';
import { Environment } from './gate-definition.js';

export const RELEASE_RECORD_PAYLOAD_TYPE = 'application/vnd.charter.release-record+json';

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

const GateSummary = z.object({
  gate: z.string(),
  enforcement: z.enum(['required', 'advisory', 'off']),
  status: z.enum(['pass', 'fail', 'not-run']),
  summary: z.string(),
  reasons: z.array(z.string()),
  /** Who accepted that a required check could not run, item by item (absent in older records). */
  waiver: z
    .strictObject({ approvers: z.array(z.string()), items: z.array(z.strictObject({ check: z.string(), reasons: z.array(z.string()) })) })
    .nullable()
    .optional(),
});

/**
 * The signed payload of a promotion or rollback (DSSE, key purpose `release-record`): which
 * manifest serves an agent in an environment from now on, and the evidence chain behind it:
 * manifest digest -> eval report digests -> approvals -> replay and canary results.
 */
export const ReleaseRecord = z.strictObject({
  apiVersion: z.literal('charter.dev/v1'),
  kind: z.literal('ReleaseRecord'),
  id: z.string().uuid(),
  action: z.enum(['promote', 'rollback']),
  environment: Environment,
  agent: z.string().min(1),
  manifestDigest: Digest,
  /** The manifest that served before this record (null for the first release). */
  replaces: Digest.nullable(),
  /** Digest of the previous record of this agent in this environment: the history is a hash chain. */
  previousRecordDigest: Digest.nullable(),
  /** The lower environment's release this promotion came from (null in dev and for rollbacks). */
  promotedFrom: z.strictObject({ environment: Environment, recordDigest: Digest }).nullable(),
  gateDefinitionDigest: Digest,
  evalReports: z.array(z.strictObject({ digest: Digest, suite: z.string(), file: z.string() })),
  approvals: z.array(z.strictObject({ approver: z.string(), keyId: z.string(), digest: Digest })),
  replay: z.record(z.string(), z.unknown()).nullable(),
  canary: z.record(z.string(), z.unknown()).nullable(),
  gates: z.array(GateSummary),
  reason: z.string().nullable(),
  releasedAt: z.string().datetime(),
  releasedBy: z.string().min(1),
});
export type ReleaseRecord = z.infer<typeof ReleaseRecord>;

export interface SignedReleaseRecord {
  record: ReleaseRecord;
  envelope: DsseEnvelope;
  /** `sha256:` of the payload bytes. */
  digest: string;
}

export async function signReleaseRecord(record: ReleaseRecord, signer: Signer): Promise<SignedReleaseRecord> {
  const payload = Buffer.from(canonicalJson(ReleaseRecord.parse(record)));
  return { record, envelope: await signEnvelope(RELEASE_RECORD_PAYLOAD_TYPE, payload, [signer]), digest: digestOf(payload) };
}

/** Verifies the signature (a key trusted for `release-record`) and the payload's shape. */
export function verifyReleaseRecord(envelope: DsseEnvelope, trusted: TrustedKeysFile, file: string): SignedReleaseRecord {
  let verified;
  try {
    verified = verifyEnvelope(envelope, trusted, { payloadType: RELEASE_RECORD_PAYLOAD_TYPE, purpose: 'release-record' });
  } catch (err) {
    if (err instanceof FindingError) throw new FindingError(`release record does not verify: ${err.message}`, { file }, err.details);
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(verified.payload.toString('utf8'));
  } catch {
    throw new FindingError('signed release record payload is not JSON', { file });
  }
  const record = validateWith(ReleaseRecord, value, `${file} (payload)`);
  return { record, envelope, digest: digestOf(verified.payload) };
}
