import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { charterHome, FindingError, InputError, readJson, writeFileAtomic, type ApprovalQueue } from '../common/index.js';
import { digestJson } from '../signing/index.js';
import { RiskTier } from '../audit/index.js';
import { approvalEvidence, EvidenceOutbox } from './approval-evidence.js';
import { signApprovalToken, signDenialToken, type ApproverKey } from './approval-tokens.js';

/** What an approval is bound to: a token for one binding is worthless for any other. */
export interface ApprovalBinding {
  tenant: string;
  agent: string;
  tool: string;
  argsDigest: string;
}

const Iso = z.string().datetime({ offset: false });

export const ApprovalRequest = z.object({
  id: z.string().uuid(),
  tenant: z.string().min(1),
  agent: z.string().min(1),
  tool: z.string().min(1),
  tier: RiskTier,
  argsDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** The arguments themselves, so an approver sees what they approve. */
  args: z.record(z.string(), z.unknown()),
  /** Distinct approvers needed: 1 for write-high, 2 for critical. */
  required: z.number().int().min(1),
  requestedBy: z.string().min(1),
  requestedAt: Iso,
  expiresAt: Iso,
  status: z.enum(['pending', 'approved', 'denied', 'expired']),
  approvals: z.array(z.object({ approver: z.string(), keyId: z.string(), tokenId: z.string(), token: z.string(), at: Iso })),
  denials: z.array(
    z.object({
      approver: z.string(),
      reason: z.string(),
      at: Iso,
      keyId: z.string().optional(),
      tokenId: z.string().optional(),
      token: z.string().optional(),
    }),
  ),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export function requiredApprovals(tier: RiskTier): number {
  return tier === 'critical' ? 2 : tier === 'write-high' ? 1 : 0;
}

/**
 * Approval requests and their tokens on disk under `$CHARTER_HOME/approvals`, so the CLI
 * (approvers) and a running gateway (requests, token use) share them. One JSON file a request;
 * a used token leaves a marker in `used/` created exclusively, which makes use single-use even
 * across processes. `by-binding/<digest of the binding>` names the newest request of a binding,
 * so a gated call reads one request, not every file. Each approve or deny leaves its audit
 * evidence in `evidence/` for the audit writer (EvidenceOutbox).
 */
export class ApprovalStore {
  readonly evidence: EvidenceOutbox;

  constructor(readonly dir: string = join(charterHome(), 'approvals')) {
    this.evidence = new EvidenceOutbox(join(dir, 'evidence'));
  }

  private file(id: string): string {
    if (!z.string().uuid().safeParse(id).success) throw new InputError(`not an approval id: '${id}'`, { field: 'id' });
    return join(this.dir, `${id}.json`);
  }

  get(id: string, now = Date.now()): ApprovalRequest {
    const file = this.file(id);
    if (!existsSync(file)) throw new InputError(`no approval request ${id}`, { file });
    return withExpiry(readJson(file, ApprovalRequest), now);
  }

  list(now = Date.now()): ApprovalRequest[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => withExpiry(readJson(join(this.dir, f), ApprovalRequest), now))
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  /** Each tenant's pending requests: how many, and when the oldest was opened (the approval queue metrics). */
  queues(now = Date.now()): ApprovalQueue[] {
    const byTenant = new Map<string, ApprovalQueue>();
    for (const r of this.list(now)) {
      if (r.status !== 'pending') continue;
      const q = byTenant.get(r.tenant) ?? { tenantId: r.tenant, pending: 0, oldestRequestedAtMs: Date.parse(r.requestedAt) };
      q.pending++;
      q.oldestRequestedAtMs = Math.min(q.oldestRequestedAtMs, Date.parse(r.requestedAt));
      byTenant.set(r.tenant, q);
    }
    return [...byTenant.values()];
  }

  /** Opens a request, or returns the live one for the same binding (a retried call does not pile up requests). */
  request(
    /** `required`: approvers the packs demand beyond the tier's minimum (never fewer than it). */
    input: ApprovalBinding & { tier: RiskTier; required?: number; args: Record<string, unknown>; requestedBy: string; ttlSeconds: number },
    now = Date.now(),
  ): ApprovalRequest {
    const required = Math.max(requiredApprovals(input.tier), input.required ?? 0);
    if (required === 0) throw new InputError(`tool '${input.tool}' is tier ${input.tier}: it needs no approval`, { field: 'tool' });
    const live = this.latestFor(input, now);
    if (live && (live.status === 'pending' || live.status === 'approved')) return live;
    const req: ApprovalRequest = {
      id: uuidv7(),
      tenant: input.tenant,
      agent: input.agent,
      tool: input.tool,
      tier: input.tier,
      argsDigest: input.argsDigest,
      args: input.args,
      required,
      requestedBy: input.requestedBy,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + input.ttlSeconds * 1000).toISOString(),
      status: 'pending',
      approvals: [],
      denials: [],
    };
    this.save(req);
    mkdirSync(join(this.dir, 'by-binding'), { recursive: true });
    writeFileAtomic(this.bindingFile(input), req.id + '\n');
    return req;
  }

  /**
   * Signs an approval token with the approver's key (whose name comes from the trusted-keys
   * file, see approverKey) and attaches it to the request. The requester cannot approve their
   * own request, and one person (name or key) counts once: dual approval is two people.
   */
  async approve(id: string, approver: ApproverKey, now = Date.now()): Promise<ApprovalRequest> {
    const req = this.get(id, now);
    if (req.status === 'denied' || req.status === 'expired') throw new FindingError(`approval request ${id} is ${req.status}`);
    if (approver.name === req.requestedBy)
      throw new FindingError(`${approver.name} requested ${id}: the requester cannot approve their own request`);
    if (req.approvals.some((a) => a.approver === approver.name || a.keyId === approver.keyId))
      throw new FindingError(`${approver.name} has already approved request ${id}`);
    const token = await signApprovalToken(req, approver, Date.parse(req.expiresAt));
    const approval = {
      approver: approver.name,
      keyId: token.keyId,
      tokenId: token.tokenId,
      token: token.token,
      at: new Date(now).toISOString(),
    };
    req.approvals.push(approval);
    if (req.approvals.length >= req.required) req.status = 'approved';
    await this.evidence.put(approvalEvidence(req, { decision: 'approve', ...approval }), approver.signer);
    this.save(req);
    return req;
  }

  /**
   * Records that the packs refused this approver's approval of a request (approvalRefusal):
   * signed evidence of the attempt for the trail, no token, the request unchanged.
   */
  async refuse(id: string, approver: ApproverKey, reason: string, now = Date.now()): Promise<void> {
    const req = this.get(id, now);
    const act = { decision: 'refused' as const, approver: approver.name, at: new Date(now).toISOString(), reason, keyId: approver.keyId };
    await this.evidence.put(approvalEvidence(req, act), approver.signer);
  }

  /** Denies a request with a denial signed like an approval: tokens already issued for it stop counting. */
  async deny(id: string, approver: ApproverKey, reason: string, now = Date.now()): Promise<ApprovalRequest> {
    const req = this.get(id, now);
    if (req.status === 'expired') throw new FindingError(`approval request ${id} is expired`);
    const token = await signDenialToken(req, approver, reason, Math.max(Date.parse(req.expiresAt), now + 1000));
    const denial = {
      approver: approver.name,
      reason,
      at: new Date(now).toISOString(),
      keyId: token.keyId,
      tokenId: token.tokenId,
      token: token.token,
    };
    req.denials.push(denial);
    req.status = 'denied';
    await this.evidence.put(approvalEvidence(req, { decision: 'deny', ...denial }), approver.signer);
    this.save(req);
    return req;
  }

  /** Marks every request past its expiry as expired; returns those it changed. */
  expire(now = Date.now()): ApprovalRequest[] {
    const changed: ApprovalRequest[] = [];
    for (const f of existsSync(this.dir) ? readdirSync(this.dir) : []) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const stored = readJson(join(this.dir, f), ApprovalRequest);
      const current = withExpiry(stored, now);
      if (current.status !== stored.status) {
        this.save(current);
        changed.push(current);
      }
    }
    return changed;
  }

  /**
   * Reminds the approver queue of a request nearing its deadline: `reminders/<id>` holds when
   * (kept apart from the request file, which approvers rewrite). `approvals list` shows it.
   */
  remind(id: string, now = Date.now()): void {
    this.file(id);
    mkdirSync(join(this.dir, 'reminders'), { recursive: true });
    writeFileAtomic(join(this.dir, 'reminders', id), new Date(now).toISOString() + '\n');
  }

  /** When the queue was last reminded of a request, or undefined. */
  remindedAt(id: string): string | undefined {
    const file = join(this.dir, 'reminders', id);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  }

  /** Tokens of the live, approved request for a binding (what the gateway attaches to a retried call). */
  tokensFor(binding: ApprovalBinding, now = Date.now()): string[] {
    const req = this.latestFor(binding, now);
    return req?.status === 'approved' ? req.approvals.map((a) => a.token) : [];
  }

  /**
   * The newest request of a binding, through the `by-binding` index. A store without the index
   * (written before it existed) is indexed once from its files.
   */
  private latestFor(binding: ApprovalBinding, now: number): ApprovalRequest | undefined {
    if (!existsSync(join(this.dir, 'by-binding'))) this.buildBindingIndex();
    const index = this.bindingFile(binding);
    if (!existsSync(index)) return undefined;
    const id = readFileSync(index, 'utf8').trim();
    if (!existsSync(this.file(id))) return undefined;
    const req = this.get(id, now);
    return sameBinding(req, binding) ? req : undefined;
  }

  private buildBindingIndex(): void {
    const newest = new Map<string, ApprovalRequest>();
    for (const r of this.list()) newest.set(this.bindingFile(r), r); // list() is oldest first
    mkdirSync(join(this.dir, 'by-binding'), { recursive: true });
    for (const [file, r] of newest) writeFileAtomic(file, r.id + '\n');
  }

  private bindingFile(b: ApprovalBinding): string {
    const key = digestJson({ tenant: b.tenant, agent: b.agent, tool: b.tool, argsDigest: b.argsDigest }).slice('sha256:'.length);
    return join(this.dir, 'by-binding', key);
  }

  /** Whether the request a token belongs to was denied or has expired (an approver withdrew). */
  isWithdrawn(id: string, now = Date.now()): boolean {
    const file = join(this.dir, `${id}.json`);
    if (!existsSync(file)) return false;
    const status = withExpiry(readJson(file, ApprovalRequest), now).status;
    return status === 'denied' || status === 'expired';
  }

  isUsed(tokenId: string): boolean {
    return existsSync(join(this.dir, 'used', tokenId));
  }

  /** Marks a token used; false when it already was. The exclusive create is the single-use guarantee. */
  consume(tokenId: string): boolean {
    mkdirSync(join(this.dir, 'used'), { recursive: true });
    try {
      closeSync(openSync(join(this.dir, 'used', tokenId), 'wx'));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  private save(req: ApprovalRequest): void {
    writeFileAtomic(this.file(req.id), JSON.stringify(req, null, 2) + '\n');
  }
}

/** What an approver reviews: the request without the tokens themselves. */
export function withoutTokens(r: ApprovalRequest) {
  return { ...r, approvals: r.approvals.map(({ token: _token, ...a }) => a) };
}

function sameBinding(a: ApprovalBinding, b: ApprovalBinding): boolean {
  return a.tenant === b.tenant && a.agent === b.agent && a.tool === b.tool && a.argsDigest === b.argsDigest;
}

function withExpiry(req: ApprovalRequest, now: number): ApprovalRequest {
  if ((req.status === 'pending' || req.status === 'approved') && Date.parse(req.expiresAt) <= now) return { ...req, status: 'expired' };
  return req;
}
