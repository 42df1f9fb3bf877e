import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { errorMessage } from '../common/index.js';
import { digestJson, type TrustedKeysFile } from '../signing/index.js';
import type { ApprovalUse, AuditRecord, DecisionRecord, EnforcementMode } from '../audit/index.js';
import { PolicyEngine, type CallDecision, type EntityResolver, type ManifestTool, type VerifiedManifest } from '../policy-packs/index.js';
import { requiredApprovals, type ApprovalStore } from './approvals.js';
import { verifyApprovalTokens } from './approval-tokens.js';
import type { RateLimiter } from './breakers.js';
import { ToolContracts } from './contracts.js';
import { unknownKillSwitches } from './kill-switches.js';
import { RefusalRecorder } from './refusals.js';
import type { CallerIdentity } from './identity.js';
import { bindTenant } from './tenant-args.js';

/** Where decision records go: the audit log (`AuditLog.append`). Resolves once the record is durable or accepted. */
export interface DecisionSink {
  append(record: AuditRecord): Promise<{ seq: number }>;
}

/** Entities plus the tenant limits the packs' guarded-write policies compare against. */
export interface DecisionData extends EntityResolver {
  limits(tenant: string): Record<string, unknown>;
}

export interface GatewayCall {
  /** The verified caller (see IdentityVerifier): tenant and agent come only from here. */
  identity: CallerIdentity;
  tool: string;
  args: Record<string, unknown>;
  /** Approval tokens presented with the call; tokens of an approved request for the same binding are added. */
  approvalTokens?: string[];
  traceId?: string | null;
  runId?: string | null;
}

/**
 * `allowed`: read tier, passes. `guarded`: a write-low call that passed the packs' limits.
 * `approved`: passed with verified approvals. `approval-pending`: denied until approvers sign
 * (an approval request is open). `denied`: refused.
 */
export type Outcome = 'allowed' | 'guarded' | 'approved' | 'approval-pending' | 'denied';

export interface GatewayDecision {
  outcome: Outcome;
  /** Whether the call must not be forwarded (a deny in ENFORCE, or a failed audit write). */
  blocked: boolean;
  /** The arguments to forward: `tenant_id` rewritten from the claim. */
  args: Record<string, unknown>;
  record: DecisionRecord;
  /** The audit sequence number, when the record was appended. */
  seq: number | null;
  approvalRequest?: { id: string; required: number; approvers: number };
}

interface AgentPolicy {
  agent: string;
  digest: string;
  engine: PolicyEngine;
  contracts: ToolContracts;
  tools: Map<string, ManifestTool & { takesTenant: boolean }>;
}

export interface DecisionPathOptions {
  manifests: VerifiedManifest[];
  data: DecisionData;
  audit: DecisionSink;
  approvals: ApprovalStore;
  /** Keys trusted for `approval` (approver keys, by name). */
  trustedKeys: TrustedKeysFile;
  mode?: EnforcementMode;
  /** Per-tenant call rate; none = unlimited. */
  rateLimiter?: RateLimiter;
  /** Lifetime of an approval request the gateway opens for a pending call. */
  approvalTtlSeconds?: number;
}

/** Stage timings of the last decision, in milliseconds (for benchmarks). */
export interface StageTimes {
  checks: number;
  cedar: number;
  audit: number;
}

const PENDING_APPROVERS = ['(pending approver 1)', '(pending approver 2)'];

/**
 * The in-process decision path, the single enforcement point: identity -> manifest tool ->
 * tenant binding -> argument contract -> approvals -> Cedar (PolicyEngine) -> mode -> one
 * DecisionRecord appended before the caller may act. Every failure on the way is a deny with
 * a reason (fail closed); an audit write that fails blocks every tier above read.
 */
export class DecisionPath {
  private readonly agents = new Map<string, AgentPolicy>();
  readonly mode: EnforcementMode;
  readonly lastStages: StageTimes = { checks: 0, cedar: 0, audit: 0 };
  /** Requests refused before identity (HTTP 401), recorded without a verified tenant. */
  readonly refusals: RefusalRecorder;
  private evidenceCheckedAt = 0;
  private recordingEvidence: Promise<void> | null = null;

  constructor(private readonly opts: DecisionPathOptions) {
    this.mode = opts.mode ?? 'ENFORCE';
    this.refusals = new RefusalRecorder(opts.audit, this.mode);
    for (const { manifest, digest } of opts.manifests) {
      const name = manifest.agent.name;
      this.agents.set(name, {
        agent: name,
        digest,
        engine: PolicyEngine.fromManifest(manifest, digest),
        contracts: new ToolContracts(manifest.tools, `manifest of ${name}`),
        tools: new Map(manifest.tools.map((t) => [t.name, { ...t, takesTenant: ToolContracts.takesTenant(t.args) }])),
      });
    }
  }

  /** The tools an agent's manifest permits (what the MCP server lists); empty for an unknown agent. */
  toolsFor(agent: string): ManifestTool[] {
    return [...(this.agents.get(agent)?.tools.values() ?? [])];
  }

  manifestDigest(agent: string): string | null {
    return this.agents.get(agent)?.digest ?? null;
  }

  /**
   * Appends the approval evidence approvers left in the approval store (see EvidenceOutbox):
   * this process holds the audit log, the approvers' CLI does not. One drain at a time.
   */
  recordApprovalEvidence(): Promise<void> {
    this.recordingEvidence ??= (async () => {
      const outbox = this.opts.approvals.evidence;
      for (const record of outbox.pending()) {
        await this.opts.audit.append(record);
        outbox.recorded(record.id);
      }
    })().finally(() => (this.recordingEvidence = null));
    return this.recordingEvidence;
  }

  async decide(call: GatewayCall): Promise<GatewayDecision> {
    const t0 = performance.now();
    // Evidence of a denial may be followed by no gated call, so any decision looks for waiting
    // evidence, at most once a second and without waiting for it. A failure is retried: the
    // next gated call waits for the drain and fails closed on it.
    if (Date.now() - this.evidenceCheckedAt >= 1000) {
      this.evidenceCheckedAt = Date.now();
      this.recordApprovalEvidence().catch(() => undefined);
    }
    const { identity } = call;
    const policy = this.agents.get(identity.agentId);
    const tool = policy?.tools.get(call.tool);
    const base = {
      tenantId: identity.tenantId,
      agentId: identity.agentId,
      principal: identity.principal,
      tool: call.tool,
      traceId: call.traceId ?? null,
      runId: call.runId ?? null,
      manifestDigest: policy?.digest ?? null,
    };
    let decision: CallDecision;
    let args = call.args;
    let argsDigest: string | undefined;
    let approvals: z.infer<typeof ApprovalUse>[] = [];
    let tokenIds: string[] = [];
    let pending: GatewayDecision['approvalRequest'];
    let cedarMs = 0;
    const deny = (reasons: string[], errors: string[] = []): CallDecision => ({
      decision: 'deny',
      tier: tool?.tier ?? null,
      action: tool?.action ?? '(none)',
      resource: '(none)',
      determiningPolicies: [],
      reasons,
      errors,
    });

    try {
      const unknownSwitches = unknownKillSwitches(this.opts.data, identity.tenantId, identity.agentId);
      if (!policy) decision = deny([`agent '${identity.agentId}' has no verified manifest at this gateway`]);
      else if (!tool) decision = deny([`unknown tool '${call.tool}': not in the manifest of agent '${identity.agentId}'`]);
      else if (unknownSwitches.length > 0) decision = deny(unknownSwitches);
      else if (this.opts.rateLimiter && !this.opts.rateLimiter.take(identity.tenantId))
        decision = deny([`tenant '${identity.tenantId}' is over its call rate`]);
      else {
        const bound = bindTenant(call.args, identity.tenantId, tool.takesTenant);
        if (!bound.ok) decision = deny([bound.reason]);
        else {
          args = bound.args;
          const contract = policy.contracts.check(tool.name, args);
          if (!contract.ok) decision = deny([`arguments violate the contract of '${tool.name}'`], contract.errors);
          else {
            argsDigest = digestJson(args);
            const binding = { tenant: identity.tenantId, agent: identity.agentId, tool: tool.name, argsDigest };
            const required = requiredApprovals(tool.tier);
            const problems: string[] = [];
            let gathered = false;
            const gather = async (): Promise<void> => {
              gathered = true;
              // The approvals' evidence goes into the trail before any decision that uses them.
              await this.recordApprovalEvidence();
              const tokens = [...(call.approvalTokens ?? []), ...this.opts.approvals.tokensFor(binding)];
              const verified = await verifyApprovalTokens([...new Set(tokens)], binding, this.opts.trustedKeys, this.opts.approvals);
              ({ approvals, tokenIds } = verified);
              problems.splice(0, problems.length, ...verified.problems);
            };
            if (required > 0 || (call.approvalTokens?.length ?? 0) > 0) await gather();
            const toolCall = (approvers: string[]) => ({
              agent: identity.agentId,
              tenant: identity.tenantId,
              tool: tool.name,
              args,
              approvers,
              limits: this.opts.data.limits(identity.tenantId),
            });
            const authorize = (approvers: string[]): CallDecision => {
              const c0 = performance.now();
              const d = policy.engine.authorizeCall(toolCall(approvers), this.opts.data);
              cedarMs += performance.now() - c0;
              return d;
            };
            /** The fewest approvers (up to two) with which the packs would allow the call, if any. */
            const approversThatWouldAllow = (have: string[]): number | undefined => {
              for (let n = Math.max(have.length + 1, required); n <= PENDING_APPROVERS.length; n++) {
                if (authorize([...have, ...PENDING_APPROVERS.slice(0, n - have.length)]).decision === 'allow') return n;
              }
              return undefined;
            };
            decision = authorize(approvals.map((a) => a.approver));
            // The tier sets a minimum; the packs may demand approval beyond it (a purchase order
            // above the tenant's spend threshold is write-low but needs an approver).
            let needed = required;
            if (decision.decision === 'deny' && tool.tier !== 'read') {
              const packNeed = approversThatWouldAllow(approvals.map((a) => a.approver));
              if (packNeed !== undefined) {
                needed = Math.max(needed, packNeed);
                if (!gathered) {
                  await gather();
                  decision = authorize(approvals.map((a) => a.approver));
                }
              }
            }
            decision = { ...decision, reasons: [...decision.reasons, ...problems] };
            if (approvals.length < needed) {
              // Approvals are missing: deny even if the packs would allow, and open a request only
              // when approvals are what stands in the way.
              const wouldAllow = approversThatWouldAllow(approvals.map((a) => a.approver)) !== undefined;
              decision = {
                ...decision,
                decision: 'deny',
                reasons: [
                  ...decision.reasons,
                  `tier ${tool.tier} call needs ${needed} distinct approver(s), the call has ${approvals.length}`,
                ],
              };
              if (wouldAllow) {
                const req = this.opts.approvals.request({
                  ...binding,
                  tier: tool.tier,
                  required: needed,
                  args,
                  requestedBy: identity.principal,
                  ttlSeconds: this.opts.approvalTtlSeconds ?? 3600,
                });
                pending = { id: req.id, required: req.required, approvers: approvals.length };
                decision.reasons.push(`approval request ${req.id} is pending`);
              }
            } else if (decision.decision === 'allow' && tokenIds.length > 0) {
              const reused = tokenIds.filter((id) => !this.opts.approvals.consume(id));
              if (reused.length > 0)
                decision = {
                  ...decision,
                  decision: 'deny',
                  reasons: [...decision.reasons, `approval token(s) already used: ${reused.join(', ')}`],
                };
            }
          }
        }
      }
    } catch (err) {
      decision = deny(['the decision failed (fail closed)'], [errorMessage(err)]);
    }

    const record: DecisionRecord = {
      kind: 'decision',
      id: uuidv7(),
      time: new Date().toISOString(),
      ...base,
      action: decision.action || '(none)',
      resource: decision.resource || '(none)',
      tier: decision.tier,
      argsDigest: argsDigest ?? digestJson(args),
      decision: decision.decision,
      mode: this.mode,
      determiningPolicies: decision.determiningPolicies,
      reasons: decision.reasons,
      errors: decision.errors,
      approvals,
      latencyMs: performance.now() - t0,
    };
    const a0 = performance.now();
    let seq: number | null = null;
    let blocked = decision.decision === 'deny' && this.mode === 'ENFORCE';
    try {
      ({ seq } = await this.opts.audit.append(record));
    } catch (err) {
      // Without a durable record a write must not happen; a read is allowed (accepted with bounded delay).
      if (record.tier !== 'read') {
        blocked = true;
        record.reasons.push(`audit write failed, call blocked (fail closed): ${errorMessage(err)}`);
      }
    }
    Object.assign(this.lastStages, { checks: record.latencyMs - cedarMs, cedar: cedarMs, audit: performance.now() - a0 });
    const outcome: Outcome = pending
      ? 'approval-pending'
      : decision.decision === 'deny' || blocked
        ? 'denied'
        : decision.tier === 'read'
          ? 'allowed'
          : decision.tier === 'write-low'
            ? 'guarded'
            : 'approved';
    return { outcome, blocked, args, record, seq, ...(pending ? { approvalRequest: pending } : {}) };
  }
}
