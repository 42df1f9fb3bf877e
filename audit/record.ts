import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';

/**
 * The audit record: one type, defined once, shared by every writer (gateway decisions,
 * eval reports, release records, approvals) and exported as JSON Schema for auditors.
 * A record is what a writer submits; the audit log adds `seq`, `prevHash` and `hash`
 * when it seals records into a segment.
 */

export const RiskTier = z.enum(['read', 'write-low', 'write-high', 'critical']);
export type RiskTier = z.infer<typeof RiskTier>;

export const EnforcementMode = z.enum(['ENFORCE', 'LOG_ONLY']);
export type EnforcementMode = z.infer<typeof EnforcementMode>;

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
const Timestamp = z.string().datetime({ offset: false, precision: 3, message: 'expected an ISO-8601 UTC timestamp with milliseconds' });

const RecordBase = z.object({
  /** Unique id, chosen by the writer (UUIDv7: time-ordered). Appending the same id twice is idempotent. */
  id: z.string().uuid(),
  time: Timestamp,
  tenantId: z.string().min(1).nullable(),
  traceId: z.string().min(1).nullable(),
  runId: z.string().min(1).nullable(),
});

export const ApprovalUse = z.object({
  approvalId: z.string().min(1),
  approver: z.string().min(1),
});

/** One tool decision made by the gateway (or the in-process decision path). */
export const DecisionRecord = RecordBase.extend({
  kind: z.literal('decision'),
  tenantId: z.string().min(1),
  agentId: z.string().min(1),
  /** The authenticated subject of the inbound token (who the agent acts as). */
  principal: z.string().min(1),
  tool: z.string().min(1),
  /** The Cedar action, e.g. `Procurement::Action::"submit_bid"`. */
  action: z.string().min(1),
  /** The Cedar resource, e.g. `Procurement::Negotiation::"acme/n-1"`. */
  resource: z.string().min(1),
  /** Null when the tool is not in the manifest (unknown tool). */
  tier: RiskTier.nullable(),
  argsDigest: Digest,
  decision: z.enum(['allow', 'deny']),
  /** ENFORCE blocks a deny; LOG_ONLY records it and lets the call through. */
  mode: EnforcementMode,
  /** Policy ids that determined the decision (Cedar diagnostics.reason). */
  determiningPolicies: z.array(z.string()),
  /** Why, in words: policy errors, failed checks (tenant mismatch, bad approval, ...). */
  reasons: z.array(z.string()),
  errors: z.array(z.string()),
  manifestDigest: Digest.nullable(),
  approvals: z.array(ApprovalUse),
  latencyMs: z.number().nonnegative(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

/**
 * A document kept as evidence: an eval report, a release record, an approval, a manifest, or a
 * kill switch engaged or released (who, when, why).
 */
export const EvidenceRecord = RecordBase.extend({
  kind: z.literal('evidence'),
  /**
   * `refused-evidence`: an evidence file the gateway would not append (unsigned or badly signed), and why.
   * `breaker`: a circuit breaker around a remote call changed state (common/breakers.ts).
   * `console-access`: a page view or action in `charter console`: who (name, role, tenant scope) saw or did what.
   */
  evidenceType: z.enum([
    'eval-report',
    'release-record',
    'approval',
    'manifest',
    'kill-switch',
    'refused-evidence',
    'breaker',
    'console-access',
  ]),
  /** Digest of the evidence document (e.g. the DSSE payload). */
  digest: Digest,
  /** What the evidence is about, usually a manifest digest. */
  subject: z.string().min(1),
  summary: z.string(),
  /** The signed document itself (a DSSE envelope), so the trail is self-contained. */
  document: z.unknown(),
});
export type EvidenceRecord = z.infer<typeof EvidenceRecord>;

export const AuditRecord = z.discriminatedUnion('kind', [DecisionRecord, EvidenceRecord]);
export type AuditRecord = z.infer<typeof AuditRecord>;

/**
 * What the log adds when it accepts a record: its position (0-based, also its Merkle leaf
 * index), the hash of the record before it and its own hash (see audit/README.md).
 */
const SealedFields = {
  seq: z.number().int().nonnegative(),
  prevHash: Digest,
  hash: Digest,
};

/** A record as stored in WAL and segments: the submitted record plus `seq`, `prevHash`, `hash`. */
export const SealedRecord = z.discriminatedUnion('kind', [DecisionRecord.extend(SealedFields), EvidenceRecord.extend(SealedFields)]);
export type SealedRecord = z.infer<typeof SealedRecord>;

/** JSON Schema of the audit record, for auditors and for Athena/Glue table definitions. */
export function auditRecordJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(AuditRecord, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** An evidence record for a signed document, stamped now with a fresh id (UUIDv7). */
export function evidenceRecord(fields: {
  evidenceType: EvidenceRecord['evidenceType'];
  digest: string;
  subject: string;
  summary: string;
  document: unknown;
  runId: string | null;
  tenantId?: string | null;
  traceId?: string | null;
}): EvidenceRecord {
  return {
    kind: 'evidence',
    id: uuidv7(),
    time: new Date().toISOString(),
    tenantId: fields.tenantId ?? null,
    traceId: fields.traceId ?? null,
    runId: fields.runId,
    evidenceType: fields.evidenceType,
    digest: fields.digest,
    subject: fields.subject,
    summary: fields.summary,
    document: fields.document,
  };
}
