import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import type { Attributes } from '@opentelemetry/api';
import { ATTR, countDecision, errorMessage, tracer } from '../common/index.js';
import { digestJson, type TrustedKeysFile } from '../signing/index.js';
import type { ApprovalUse, AuditRecord, DecisionRecord, EnforcementMode } from '../audit/index.js';
import {
  PolicyEngine,
  type CallDecision,
  type DecisionCacheOptions,
  type EntityResolver,
  type ManifestTool,
  type VerifiedManifest,
} from '../policy-packs/index.js';
import { requiredApprovals, type ApprovalBinding, type ApprovalStore } from './approvals.js';
import { verifyApprovalTokens } from './approval-tokens.js';
import { approvalRefusal, ApproverDirectory } from './approval-scope.js';
import type { RateLimiter } from './breakers.js';
import { ToolContracts } from './contracts.js';
import { unknownKillSwitches } from './kill-switches.js';
import { RefusalRecorder } from './refusals.js';
import type { CallerIdentity } from './identity.js';
import { bindTenant, checkNamedEntities, entityArgs, type EntityArg } from './tenant-args.js';
import { readArguments, recordedToolName, toolNameProblem } from './call-bounds.js';

/** Where decision records go: the audit log (`AuditLog.append`). Resolves once the record is durable or accepted. */
export interface DecisionSink {
  append(record: AuditRecord): Promise<{ seq: number }>;
}

/** What a decision span says: who called what, under which manifest, and the outcome. */
function decisionAttributes(d: GatewayDecision): Attributes {
  const r = d.record;
  return {
    [ATTR.tenant]: r.tenantId,
    [ATTR.agent]: r.agentId,
    [ATTR.tool]: r.tool,
    [ATTR.tier]: r.tier ?? '',
    [ATTR.outcome]: d.outcome,
    [ATTR.manifestDigest]: r.manifestDigest ?? '',
    [ATTR.negotiation]: r.runId ?? '',
    'charter.audit.record_id': r.id,
  };
}

/** Entities plus the tenant limits the packs' guarded-write policies compare against. */
export interface DecisionData extends EntityResolver {
  limits(tenant: string): Record<string, unknown>;
}

export interface GatewayCall {
  /** The verified caller (see IdentityVerifier): tenant and agent come only from here. */
  identity: CallerIdentity;
  /** As the caller named it; a name that is not a usable string is denied and recorded as `(none)`. */
  tool: string;
  /** As the caller sent them: read within ARGUMENT_BOUNDS into plain JSON data before any other stage. */
  args: unknown;
  /**
   * Set by a transport that refuses the call before it could be decided (e.g. a malformed MCP
   * request): the call is denied with this reason and recorded like any other.
   */
  refused?: string;
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
  tools: Map<string, PolicyTool>;
}

/** A manifest tool with what the decision path reads of its contract once, at load. */
type PolicyTool = ManifestTool & { takesTenant: boolean; entityArgs: EntityArg[] };

export interface DecisionPathOptions {
  manifests: VerifiedManifest[];
  data: DecisionData;
  audit: DecisionSink;
  approvals: ApprovalStore;
  /** Keys trusted for `approval` (approver keys, by name). */
  trustedKeys: TrustedKeysFile;
  /**
   * Who may approve what: the approvers (tenants, spend limit, roles) the packs' approval
   * policies decide over, for every token before it counts. None: nobody's approval counts.
   */
  approvers?: ApproverDirectory;
  mode?: EnforcementMode;
  /** Per-tenant call rate; none = unlimited. */
  rateLimiter?: RateLimiter;
  /** Lifetime of an approval request the gateway opens for a pending call. */
  approvalTtlSeconds?: number;
  /**
   * Cedar answers kept per manifest, keyed by the complete request (policy-packs
   * DecisionCache: exact by construction, re-checked on a sample of hits, off on any
   * disagreement). On by default; `false` asks Cedar every time.
   */
  decisionCache?: DecisionCacheOptions | false;
  /**
   * Ask Cedar the fast form of each request (policy-packs RequestSlices: the action's policy
   * slice, the context it reads, no per-call schema parse; a sample re-checked against the full
   * request, off on any disagreement). On by default; `false` sends every request whole.
   */
  requestSlices?: { verifyEvery?: number } | false;
}

/** Stage timings of the last decision, in milliseconds (for benchmarks). */
export interface StageTimes {
  checks: number;
  cedar: number;
  audit: number;
}

const PENDING_APPROVERS = ['(pending approver 1)', '(pending approver 2)'];

/**
 * The in-process decision path, the single enforcement point. `decide` runs the stages in
 * order (parse -> bound -> identify -> resolve -> Cedar -> approvals -> record, each a method below) and
 * appends one DecisionRecord before the caller may act. Every failure on the way is a deny
 * with a reason (fail closed); an audit write that fails blocks every tier above read.
 */
export class DecisionPath {
  private readonly agents = new Map<string, AgentPolicy>();
  readonly mode: EnforcementMode;
  readonly lastStages: StageTimes = { checks: 0, cedar: 0, audit: 0 };
  /** Requests refused before identity (HTTP 401), recorded without a verified tenant. */
  readonly refusals: RefusalRecorder;
  private evidenceCheckedAt = 0;
  private recordingEvidence: Promise<void> | null = null;

  private readonly approverDirectory: ApproverDirectory;

  constructor(private readonly opts: DecisionPathOptions) {
    this.mode = opts.mode ?? 'ENFORCE';
    this.approverDirectory = opts.approvers ?? ApproverDirectory.none('no approvers were given to this gateway');
    this.refusals = new RefusalRecorder(opts.audit, this.mode);
    for (const { manifest, digest } of opts.manifests) {
      const name = manifest.agent.name;
      this.agents.set(name, {
        agent: name,
        digest,
        engine: PolicyEngine.fromManifest(manifest, digest, {
          ...(opts.decisionCache === false ? {} : { cache: opts.decisionCache ?? {} }),
          ...(opts.requestSlices === false ? {} : { slices: opts.requestSlices ?? {} }),
        }),
        contracts: new ToolContracts(manifest.tools, `manifest of ${name}`),
        tools: new Map(
          manifest.tools.map((t) => [t.name, { ...t, takesTenant: ToolContracts.takesTenant(t.args), entityArgs: entityArgs(t.args) }]),
        ),
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
   * Appends the signed evidence approvers and operators left in the approval store (see
   * EvidenceOutbox, which verifies each file against the trusted keys and records a refusal
   * instead of a file that does not verify): this process holds the audit log, the CLI does not.
   * One drain at a time.
   */
  recordApprovalEvidence(): Promise<void> {
    this.recordingEvidence ??= this.opts.approvals.evidence
      .deliver((record) => this.opts.audit.append(record), this.opts.trustedKeys)
      .then(() => undefined)
      .finally(() => (this.recordingEvidence = null));
    return this.recordingEvidence;
  }

  /**
   * Decides one call and records it. The stages read as the pipeline: parse (a transport's
   * refusal, the tool name) -> bound (arguments read within ARGUMENT_BOUNDS) -> identify (agent,
   * tool, kill switches, rate) -> resolve (tenant binding, argument contract) -> Cedar (gathering
   * approvals when the tier or the packs need them) -> approvals (missing approvers, single use)
   * -> record. Any exception on the way is a deny (fail closed). Everything the record needs is
   * in the CallState from the start or set only by a stage that succeeded (the arguments are
   * `{}` until read within bounds), so building it cannot fail: every call, however malformed,
   * leaves exactly one record.
   */
  async decide(call: GatewayCall): Promise<GatewayDecision> {
    const t0 = performance.now();
    // The decision as a span of the caller's trace (the API's no-op span when tracing is off).
    const span = tracer().startSpan('gateway.decide');
    try {
      const d = await this.decideAndRecord(call, t0);
      if (span.isRecording()) span.setAttributes(decisionAttributes(d));
      countDecision({ tenantId: d.record.tenantId, agentId: d.record.agentId, tier: d.record.tier, outcome: d.outcome });
      return d;
    } finally {
      span.end();
    }
  }

  private async decideAndRecord(call: GatewayCall, t0: number): Promise<GatewayDecision> {
    this.pollApprovalEvidence();
    const s: CallState = { call, args: {}, approvals: [], tokenIds: [], problems: [], gathered: false, cedarMs: 0 };
    let decision: CallDecision;
    try {
      decision =
        this.parse(s) ??
        this.bound(s) ??
        this.identify(s) ??
        this.resolve(s) ??
        (await this.approvalsNeeded(s, await this.decideWithCedar(s)));
    } catch (err) {
      decision = denial(s, ['the decision failed (fail closed)'], [errorMessage(err)]);
    }
    return this.record(s, decision, t0);
  }

  /**
   * Evidence of a denial may be followed by no gated call, so any decision looks for waiting
   * evidence, at most once a second and without waiting for it. A failure is retried: the
   * next gated call waits for the drain and fails closed on it.
   */
  private pollApprovalEvidence(): void {
    if (Date.now() - this.evidenceCheckedAt < 1000) return;
    this.evidenceCheckedAt = Date.now();
    this.recordApprovalEvidence().catch(() => undefined);
  }

  /**
   * What the call names (the caller's agent policy, the manifest tool), so that a record of any
   * later deny carries them; a call the transport refused, or whose tool name names nothing, is
   * a deny. Returns a deny, or undefined to go on.
   */
  private parse(s: CallState): CallDecision | undefined {
    s.policy = this.agents.get(s.call.identity.agentId);
    const problem = toolNameProblem(s.call.tool);
    if (!problem) s.tool = s.policy?.tools.get(s.call.tool);
    if (s.call.refused !== undefined) return denial(s, [s.call.refused]);
    return problem ? denial(s, [problem]) : undefined;
  }

  /** The arguments read into plain JSON data within ARGUMENT_BOUNDS, before any stage walks them: a deny, or undefined to go on. */
  private bound(s: CallState): CallDecision | undefined {
    const read = readArguments(s.call.args);
    if (!read.ok) return denial(s, [read.reason]);
    s.args = read.args;
    return undefined;
  }

  /** The caller's agent and its manifest tool, kill switches stated, call rate: a deny, or undefined to go on. */
  private identify(s: CallState): CallDecision | undefined {
    const { identity } = s.call;
    const unknownSwitches = unknownKillSwitches(this.opts.data, identity.tenantId, identity.agentId);
    if (!s.policy) return denial(s, [`agent '${identity.agentId}' has no verified manifest at this gateway`]);
    if (!s.tool) return denial(s, [`unknown tool '${s.call.tool}': not in the manifest of agent '${identity.agentId}'`]);
    if (unknownSwitches.length > 0) return denial(s, unknownSwitches);
    if (this.opts.rateLimiter && !this.opts.rateLimiter.take(identity.tenantId))
      return denial(s, [`tenant '${identity.tenantId}' is over its call rate`]);
    return undefined;
  }

  /**
   * The arguments bound to the caller's tenant, checked against the tool's contract, and every
   * entity they name within the caller's tenant: a deny, or undefined to go on.
   */
  private resolve(s: CallState): CallDecision | undefined {
    const tool = s.tool!;
    const bound = bindTenant(s.args, s.call.identity.tenantId, tool.takesTenant);
    if (!bound.ok) return denial(s, [bound.reason]);
    s.args = bound.args;
    const contract = s.policy!.contracts.check(tool.name, s.args);
    if (!contract.ok) return denial(s, [`arguments violate the contract of '${tool.name}'`], contract.errors);
    s.argsDigest = digestJson(s.args);
    const named = checkNamedEntities(s.args, tool.entityArgs, s.call.identity.tenantId, this.opts.data);
    if (!named.ok) return denial(s, [named.reason]);
    return undefined;
  }

  /**
   * Cedar over the call with the approvals it carries. The tier sets a minimum of approvers;
   * the packs may demand more (a purchase order above the tenant's spend threshold is
   * write-low but needs an approver), found by asking Cedar with stand-in approvers.
   */
  private async decideWithCedar(s: CallState): Promise<{ decision: CallDecision; needed: number }> {
    const tool = s.tool!;
    const required = requiredApprovals(tool.tier);
    if (required > 0 || (s.call.approvalTokens?.length ?? 0) > 0) await this.gatherApprovals(s);
    let decision = this.authorize(s, this.approvers(s));
    let needed = required;
    if (decision.decision === 'deny' && tool.tier !== 'read') {
      const packNeed = this.approversThatWouldAllow(s, required);
      if (packNeed !== undefined) {
        needed = Math.max(needed, packNeed);
        if (!s.gathered) {
          await this.gatherApprovals(s);
          decision = this.authorize(s, this.approvers(s));
        }
      }
    }
    return { decision: { ...decision, reasons: [...decision.reasons, ...s.problems] }, needed };
  }

  /**
   * Fewer verified approvers than needed is a deny even if the packs would allow; a request is
   * opened only when approvals are what stands in the way. An allowed call consumes its tokens
   * (single use).
   */
  private async approvalsNeeded(s: CallState, { decision, needed }: { decision: CallDecision; needed: number }): Promise<CallDecision> {
    const tool = s.tool!;
    const { identity } = s.call;
    if (s.approvals.length < needed) {
      const wouldAllow = this.approversThatWouldAllow(s, requiredApprovals(tool.tier)) !== undefined;
      const denied: CallDecision = {
        ...decision,
        decision: 'deny',
        reasons: [...decision.reasons, `tier ${tool.tier} call needs ${needed} distinct approver(s), the call has ${s.approvals.length}`],
      };
      if (wouldAllow) {
        const req = this.opts.approvals.request({
          ...this.binding(s),
          tier: tool.tier,
          required: needed,
          args: s.args,
          requestedBy: identity.principal,
          ttlSeconds: this.opts.approvalTtlSeconds ?? 3600,
        });
        s.pending = { id: req.id, required: req.required, approvers: s.approvals.length };
        denied.reasons.push(`approval request ${req.id} is pending`);
      }
      return denied;
    }
    if (decision.decision === 'allow' && s.tokenIds.length > 0) {
      const reused = s.tokenIds.filter((id) => !this.opts.approvals.consume(id));
      if (reused.length > 0)
        return { ...decision, decision: 'deny', reasons: [...decision.reasons, `approval token(s) already used: ${reused.join(', ')}`] };
    }
    return decision;
  }

  /** Approval tokens of the call and of an approved request for the same binding, verified. */
  private async gatherApprovals(s: CallState): Promise<void> {
    s.gathered = true;
    // The approvals' evidence goes into the trail before any decision that uses them.
    await this.recordApprovalEvidence();
    const binding = this.binding(s);
    const tokens = [...(s.call.approvalTokens ?? []), ...this.opts.approvals.tokensFor(binding)];
    const { identity } = s.call;
    const call = { agent: identity.agentId, tenant: identity.tenantId, tool: s.tool!.name, args: s.args, limits: {} };
    // Who may approve is decided here again, over this gateway's manifest: a token the CLI signed counts only if the packs say so.
    const scope = (approver: string) => approvalRefusal(s.policy!.engine, call, approver, this.opts.data, this.approverDirectory);
    const verified = await verifyApprovalTokens(
      [...new Set(tokens)],
      binding,
      this.opts.trustedKeys,
      this.opts.approvals,
      identity.principal,
      scope,
    );
    s.approvals = verified.approvals;
    s.tokenIds = verified.tokenIds;
    s.problems = verified.problems;
  }

  private binding(s: CallState): ApprovalBinding {
    const { identity } = s.call;
    return { tenant: identity.tenantId, agent: identity.agentId, tool: s.tool!.name, argsDigest: s.argsDigest! };
  }

  private approvers(s: CallState): string[] {
    return s.approvals.map((a) => a.approver);
  }

  private authorize(s: CallState, approvers: string[]): CallDecision {
    const { identity } = s.call;
    const c0 = performance.now();
    const call = { agent: identity.agentId, tenant: identity.tenantId, tool: s.tool!.name, args: s.args, approvers };
    const d = s.policy!.engine.authorizeCall({ ...call, limits: this.opts.data.limits(identity.tenantId) }, this.opts.data);
    s.cedarMs += performance.now() - c0;
    return d;
  }

  /** The fewest approvers (up to two) with which the packs would allow the call, if any. */
  private approversThatWouldAllow(s: CallState, required: number): number | undefined {
    const have = this.approvers(s);
    // Approvals only grow during a call, so their count and the minimum identify the probe.
    const key = `${have.length}/${required}`;
    if (s.probed?.key !== key) s.probed = { key, result: this.probeApprovers(s, have, required) };
    return s.probed.result;
  }

  private probeApprovers(s: CallState, have: string[], required: number): number | undefined {
    for (let n = Math.max(have.length + 1, required); n <= PENDING_APPROVERS.length; n++) {
      if (this.authorize(s, [...have, ...PENDING_APPROVERS.slice(0, n - have.length)]).decision === 'allow') return n;
    }
    return undefined;
  }

  /** One record, appended before the caller may act; a failed append blocks every tier above read. */
  private async record(s: CallState, decision: CallDecision, t0: number): Promise<GatewayDecision> {
    const { identity } = s.call;
    const record: DecisionRecord = {
      kind: 'decision',
      id: uuidv7(),
      time: new Date().toISOString(),
      tenantId: identity.tenantId,
      agentId: identity.agentId,
      principal: identity.principal,
      tool: recordedToolName(s.call.tool),
      // Empty ids would fail the record's schema, and a record that does not validate is not written.
      traceId: s.call.traceId || null,
      runId: s.call.runId || null,
      manifestDigest: s.policy?.digest ?? null,
      action: decision.action || '(none)',
      resource: decision.resource || '(none)',
      tier: decision.tier,
      argsDigest: s.argsDigest ?? digestJson(s.args),
      decision: decision.decision,
      mode: this.mode,
      determiningPolicies: decision.determiningPolicies,
      reasons: decision.reasons,
      errors: decision.errors,
      approvals: s.approvals,
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
    Object.assign(this.lastStages, { checks: record.latencyMs - s.cedarMs, cedar: s.cedarMs, audit: performance.now() - a0 });
    const { pending } = s;
    return {
      outcome: outcomeOf(decision, blocked, pending),
      blocked,
      args: s.args,
      record,
      seq,
      ...(pending ? { approvalRequest: pending } : {}),
    };
  }
}

/** What one decision gathers on its way through the stages; the record is built from it. */
interface CallState {
  call: GatewayCall;
  policy?: AgentPolicy;
  tool?: PolicyTool;
  /** The arguments as decided: the caller's, then `tenant_id` rewritten from the claim. */
  args: Record<string, unknown>;
  argsDigest?: string;
  approvals: z.infer<typeof ApprovalUse>[];
  tokenIds: string[];
  /** Why presented approval tokens did not count. */
  problems: string[];
  gathered: boolean;
  pending?: GatewayDecision['approvalRequest'];
  /** The last approver probe (by approvers held and tier minimum): Cedar is not asked twice. */
  probed?: { key: string; result: number | undefined };
  cedarMs: number;
}

function denial(s: CallState, reasons: string[], errors: string[] = []): CallDecision {
  return {
    decision: 'deny',
    tier: s.tool?.tier ?? null,
    action: s.tool?.action ?? '(none)',
    resource: '(none)',
    determiningPolicies: [],
    reasons,
    errors,
  };
}

function outcomeOf(decision: CallDecision, blocked: boolean, pending: GatewayDecision['approvalRequest']): Outcome {
  if (pending) return 'approval-pending';
  if (decision.decision === 'deny' || blocked) return 'denied';
  return decision.tier === 'read' ? 'allowed' : decision.tier === 'write-low' ? 'guarded' : 'approved';
}
