import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeFileAtomic } from '../common/index.js';
import { digestJson } from '../signing/index.js';
import { EvidenceRecord, evidenceRecord } from '../audit/index.js';
import type { ApprovalRequest } from './approvals.js';

/** One approver's act on a request: an approval carries the token they signed, a denial its reason. */
export type ApprovalAct =
  | { decision: 'approve'; approver: string; at: string; keyId: string; tokenId: string; token: string }
  | { decision: 'deny'; approver: string; at: string; reason: string };

/**
 * The audit evidence of an approve or deny: who acted on which request (tenant, agent, tool,
 * argument digest, tier) and, for an approval, the token signed with the approver's own key,
 * so the record proves the approver's consent by itself. Subject `approval:<request id>`.
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
  const verb = act.decision === 'approve' ? 'approved' : 'denied';
  return evidenceRecord({
    evidenceType: 'approval',
    digest: digestJson(document),
    subject: `approval:${req.id}`,
    summary: `${act.approver} ${verb} ${req.tool} for ${req.tenant}/${req.agent} (request ${req.id}, args ${req.argsDigest}, ${req.approvals.length}/${req.required} approvals, now ${req.status})`,
    document,
    runId: null,
    tenantId: req.tenant,
  });
}

/**
 * Evidence records waiting for the audit writer. Approvers act through the CLI, in another
 * process than the one holding the audit log (one writer per log), so each act leaves its
 * record here (`<approvals>/evidence/<record id>.json`) and the gateway's decision path appends
 * it (see DecisionPath), then removes the file. The record id is fixed when the file is
 * written, and the log ignores an id it already has, so a crash between append and removal
 * cannot record an act twice.
 */
export class EvidenceOutbox {
  constructor(readonly dir: string) {}

  put(record: EvidenceRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, `${record.id}.json`), JSON.stringify(record) + '\n');
  }

  /** Waiting records, oldest first (ids are UUIDv7: time-ordered). */
  pending(): EvidenceRecord[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .sort()
      .map((f) => readJson(join(this.dir, f), EvidenceRecord));
  }

  /** Forgets a record once the audit log has it. */
  recorded(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
  }
}
