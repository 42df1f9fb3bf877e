import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CharterError, errorMessage, writeFileAtomic } from '../common/index.js';
import {
  canonicalJson,
  digestJson,
  digestOf,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type KeyPurpose,
  type Signer,
  type TrustedKeysFile,
} from '../signing/index.js';
import { EvidenceRecord, evidenceRecord } from '../audit/index.js';
import type { ApprovalRequest } from './approvals.js';

/**
 * One approver's act on a request: an approval carries the token they signed, a denial its
 * reason; a refusal is an approval the packs did not let this approver give (no token exists).
 */
export type ApprovalAct =
  | { decision: 'approve'; approver: string; at: string; keyId: string; tokenId: string; token: string }
  | { decision: 'deny'; approver: string; at: string; reason: string; keyId: string; tokenId: string; token: string }
  | { decision: 'refused'; approver: string; at: string; reason: string; keyId: string };

/**
 * The audit evidence of an approve or deny: who acted on which request (tenant, agent, tool,
 * argument digest, tier) and the token (approval or denial) signed with the approver's own key,
 * so the record proves the approver's act by itself. Subject `approval:<request id>`.
 */
export function approvalEvidence(req: ApprovalRequest, act: ApprovalAct): EvidenceRecord {
  const document = {
    approvalId: req.id,
    ...act,
    request: {
      tenant: req.tenant,
      agent: req.agent,
      tool: req.tool,
      tier: req.tier,
      argsDigest: req.argsDigest,
      required: req.required,
      requestedBy: req.requestedBy,
      requestedAt: req.requestedAt,
      expiresAt: req.expiresAt,
    },
    statusAfter: req.status,
  };
  const verb = { approve: 'approved', deny: 'denied', refused: 'was refused approving' }[act.decision];
  const why = act.decision === 'refused' ? `: ${act.reason}` : '';
  return evidenceRecord({
    evidenceType: 'approval',
    digest: digestJson(document),
    subject: `approval:${req.id}`,
    summary: `${act.approver} ${verb} ${req.tool} for ${req.tenant}/${req.agent} (request ${req.id}, args ${req.argsDigest}, ${req.approvals.length}/${req.required} approvals, now ${req.status})${why}`,
    document,
    runId: null,
    tenantId: req.tenant,
  });
}

export const EVIDENCE_PAYLOAD_TYPE = 'application/vnd.charter.evidence+json';

/**
 * Who may produce evidence of each type through the outbox, and under which name: the signing
 * key must be trusted for one of `purposes`, and its name must be the actor the document names
 * (an approver cannot put words in another approver's mouth). Other evidence types (eval
 * reports, release records) have writers of their own and never come through here.
 */
const PRODUCERS: Partial<
  Record<EvidenceRecord['evidenceType'], (doc: Record<string, unknown>) => { actor: unknown; purposes: KeyPurpose[] }>
> = {
  approval: (doc) => ({ actor: doc.approver, purposes: ['approval'] }),
  // Engaging a kill switch is an operator's act; releasing one is an approver's.
  'kill-switch': (doc) => ({ actor: doc.by, purposes: doc.action === 'engage' ? ['operator', 'approval'] : ['approval'] }),
};

/** The producer's check of one outbox file: the record it carries, or why it is refused. */
function verifyEvidenceFile(text: string, file: string, trusted: TrustedKeysFile): EvidenceRecord {
  const envelope = parseEnvelope(text, file);
  if (envelope.payloadType !== EVIDENCE_PAYLOAD_TYPE) throw new Error(`payloadType is '${envelope.payloadType}', not evidence`);
  const record = EvidenceRecord.parse(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')));
  const producer = PRODUCERS[record.evidenceType];
  if (!producer) throw new Error(`${record.evidenceType} evidence does not enter the trail through the outbox`);
  if (record.digest !== digestJson(record.document)) throw new Error("the record's digest is not the digest of its document");
  const { actor, purposes } = producer(record.document as Record<string, unknown>);
  const problems: string[] = [];
  for (const purpose of purposes) {
    try {
      const { signedBy } = verifyEnvelope(envelope, trusted, { payloadType: EVIDENCE_PAYLOAD_TYPE, purpose });
      if (signedBy.some((k) => k.name === actor)) return record;
      problems.push(`signed by ${signedBy.map((k) => `'${k.name}'`).join(', ')}, but the document names '${String(actor)}'`);
    } catch (err) {
      const details = err instanceof CharterError && err.details.length ? ` (${err.details.join('; ')})` : '';
      problems.push(`${errorMessage(err)}${details}`);
    }
  }
  throw new Error(problems.join('; '));
}

/** The trail's record of an outbox file that was refused: which file, its digest, and why. */
function refusedEvidence(file: string, bytes: Buffer, reason: string): EvidenceRecord {
  const document = { file, sha256: digestOf(bytes), reason };
  return evidenceRecord({
    evidenceType: 'refused-evidence',
    digest: digestJson(document),
    subject: `evidence-outbox:${file}`,
    summary: `refused evidence file ${file} (${document.sha256}): ${reason}`,
    document,
    runId: null,
    tenantId: null,
  });
}

/**
 * Evidence records waiting for the audit writer. Approvers and operators act through the CLI,
 * in another process than the one holding the audit log (one writer per log), so each act leaves
 * its record here (`<approvals>/evidence/<record id>.json`), in a DSSE envelope signed with the
 * producer's own key; the gateway's decision path delivers it (see DecisionPath), then removes
 * the file. Delivery verifies each envelope against the trusted keys first (PRODUCERS): a file
 * that is unsigned, badly signed or signed by someone other than the actor it names is not
 * appended; it moves to `refused/` and a `refused-evidence` record says so in the trail. The
 * record id is fixed when the file is written, and the log ignores an id it already has, so a
 * crash between append and removal cannot record an act twice.
 */
export class EvidenceOutbox {
  constructor(readonly dir: string) {}

  async put(record: EvidenceRecord, signer: Signer): Promise<void> {
    const envelope = await signEnvelope(EVIDENCE_PAYLOAD_TYPE, Buffer.from(canonicalJson(record)), [signer]);
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, `${record.id}.json`), JSON.stringify(envelope) + '\n');
  }

  /** Files waiting, oldest first (record ids are UUIDv7: time-ordered). */
  pending(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .sort();
  }

  /**
   * Appends every waiting record that verifies, in order, removing each once the log has it; a
   * file that does not verify is set aside in `refused/` with a record of the refusal instead.
   * Returns the refusals (file and reason).
   */
  async deliver(
    append: (record: EvidenceRecord) => Promise<unknown>,
    trusted: TrustedKeysFile,
  ): Promise<Array<{ file: string; reason: string }>> {
    const refusals: Array<{ file: string; reason: string }> = [];
    for (const name of this.pending()) {
      const file = join(this.dir, name);
      const bytes = readFileSync(file);
      let record: EvidenceRecord;
      try {
        record = verifyEvidenceFile(bytes.toString('utf8'), file, trusted);
      } catch (err) {
        const reason = errorMessage(err);
        await append(refusedEvidence(name, bytes, reason));
        mkdirSync(join(this.dir, 'refused'), { recursive: true });
        renameSync(file, join(this.dir, 'refused', name));
        refusals.push({ file: name, reason });
        continue;
      }
      await append(record);
      rmSync(file, { force: true });
    }
    return refusals;
  }
}
