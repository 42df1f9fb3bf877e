import type { DecisionRecord } from '../audit/index.js';
import {
  parseUid,
  PolicyEngine,
  type CallDecision,
  type EntityResolver,
  type ToolCall,
  type VerifiedManifest,
} from '../policy-packs/index.js';
import { fail, notRun, pass, type CheckOutcome } from './gate-result.js';

/** Entities and tenant limits a replayed call is decided over (the gateway's entity data). */
export interface ReplayData extends EntityResolver {
  limits(tenant: string): Record<string, unknown>;
}

export interface ReplayFlip {
  recordId: string;
  time: string;
  tenant: string;
  tool: string;
  tier: string | null;
  resource: string;
  from: 'allow' | 'deny';
  to: 'allow' | 'deny';
  determining: string[];
  /** A deny -> allow flip on a write-high or critical tool: blocks unless accepted. */
  highRisk: boolean;
  accepted: boolean;
}

export interface ReplayResult {
  /** Decision records read from the trail (the last N of this agent). */
  records: number;
  /** Records the candidate could be evaluated on (a resource was recorded). */
  replayed: number;
  /** Records whose recorded decision the manifest that made it reproduces on the replayed request. */
  reproduced: number;
  /** Records that could not be reproduced (made by an unknown manifest, or decided by a gateway check outside Cedar). */
  unreproducible: number;
  flips: { denyToAllow: number; allowToDeny: number; list: ReplayFlip[] };
  canary: {
    baseline: 'current-release' | 'recording-manifest';
    requests: number;
    flips: number;
    errors: number;
    flipRate: number;
    errorRate: number;
  };
}

const HIGH_RISK = new Set(['write-high', 'critical']);

/**
 * The recorded call, as far as the trail keeps it: agent, tenant, tool, the resource it
 * addressed and its verified approvers. Arguments are kept only as a digest, so the projected
 * input is empty; a decision that depended on them is caught by the reproduction check.
 */
function replayedCall(r: DecisionRecord, data: ReplayData): ToolCall | null {
  const resource = parseUid(r.resource);
  if (!resource) return null;
  return {
    agent: r.agentId,
    tenant: r.tenantId,
    tool: r.tool,
    args: {},
    approvers: r.approvals.map((a) => a.approver),
    limits: data.limits(r.tenantId),
    resource,
  };
}

export interface ReplayInput {
  candidate: VerifiedManifest;
  /** The release currently serving in this environment, if any: the canary runs beside it. */
  current: VerifiedManifest | null;
  /** Every manifest known to have served (released anywhere), by digest: they reproduce recorded decisions. */
  known: Map<string, VerifiedManifest>;
  records: DecisionRecord[];
  data: ReplayData;
  /** Decision record ids whose flip an approver accepted. */
  accepted: Set<string>;
}

/**
 * Decision replay: the candidate (in LOG_ONLY: decisions are computed, never enforced) on the
 * last recorded decisions. Replay flips compare with what was recorded, on the records the
 * recording manifest reproduces; the canary compares with the current release on every
 * replayed request (with no release in the environment yet: with the manifest that recorded it,
 * or the recorded decision when that manifest is unknown).
 */
export function replayDecisions(input: ReplayInput): ReplayResult {
  const engines = new Map<string, PolicyEngine>();
  const engineFor = (m: VerifiedManifest) => {
    let e = engines.get(m.digest);
    if (!e) engines.set(m.digest, (e = PolicyEngine.fromManifest(m.manifest, m.digest)));
    return e;
  };
  const candidate = engineFor(input.candidate);
  const current = input.current ? engineFor(input.current) : null;
  const tierOf = new Map(input.candidate.manifest.tools.map((t) => [t.name, t.tier]));
  let replayed = 0;
  let reproduced = 0;
  let canaryFlips = 0;
  let canaryErrors = 0;
  const list: ReplayFlip[] = [];
  for (const r of input.records) {
    const call = replayedCall(r, input.data);
    if (!call) continue;
    replayed++;
    const next: CallDecision = candidate.authorizeCall(call, input.data);
    if (next.errors.length > 0) canaryErrors++;
    const recorder = r.manifestDigest ? input.known.get(r.manifestDigest) : undefined;
    // Usually the candidate recorded the traffic itself (it serves the environment below): then its decision is the reproduction.
    const reproduction = recorder
      ? recorder.digest === input.candidate.digest
        ? next.decision
        : engineFor(recorder).authorizeCall(call, input.data).decision
      : null;
    // Both sides of the canary are decided on the same replayed request, so what the trail does
    // not keep (arguments) cannot show up as a flip. The current release usually recorded the
    // traffic itself: then its decision is the reproduction.
    const baseline = current
      ? recorder?.digest === input.current!.digest
        ? reproduction!
        : current.authorizeCall(call, input.data).decision
      : (reproduction ?? r.decision);
    if (baseline !== next.decision) canaryFlips++;
    if (reproduction !== r.decision) continue;
    reproduced++;
    if (next.decision === r.decision) continue;
    const tier = tierOf.get(r.tool) ?? r.tier;
    const highRisk = next.decision === 'allow' && [tier, r.tier].some((t) => t !== null && t !== undefined && HIGH_RISK.has(t));
    list.push({
      recordId: r.id,
      time: r.time,
      tenant: r.tenantId,
      tool: r.tool,
      tier: tier ?? null,
      resource: r.resource,
      from: r.decision,
      to: next.decision,
      determining: next.determiningPolicies,
      highRisk,
      accepted: input.accepted.has(r.id),
    });
  }
  return {
    records: input.records.length,
    replayed,
    reproduced,
    unreproducible: replayed - reproduced,
    flips: { denyToAllow: list.filter((f) => f.to === 'allow').length, allowToDeny: list.filter((f) => f.to === 'deny').length, list },
    canary: {
      baseline: current ? 'current-release' : 'recording-manifest',
      requests: replayed,
      flips: canaryFlips,
      errors: canaryErrors,
      flipRate: replayed ? canaryFlips / replayed : 0,
      errorRate: replayed ? canaryErrors / replayed : 0,
    },
  };
}

/** Replay gate: any unaccepted deny -> allow flip on a write-high or critical tool blocks. */
export function assessReplay(result: ReplayResult | string): CheckOutcome {
  if (typeof result === 'string') return notRun('decision replay did not run', [result]);
  const { flips } = result;
  const blocking = flips.list.filter((f) => f.highRisk && !f.accepted);
  const summary = `${result.replayed} replayed, ${result.reproduced} reproduced: ${flips.denyToAllow} deny->allow, ${flips.allowToDeny} allow->deny${blocking.length ? `, ${blocking.length} high-risk unapproved` : ''}`;
  const evidence = { ...result, canary: undefined };
  if (blocking.length === 0) return pass(summary, evidence);
  return fail(
    summary,
    blocking.map(
      (f) =>
        `deny -> allow flip on ${f.tier} tool ${f.tool} (${f.tenant}, ${f.resource}, record ${f.recordId}) by ${f.determining.join(', ') || '(no policy)'}: not approved`,
    ),
    evidence,
  );
}

/** Canary gate: enough replayed requests, decision flips and errors within the environment's limits. */
export function assessCanary(
  result: ReplayResult | string,
  limits: { minRequests: number; maxFlipRate: number; maxErrorRate: number },
): CheckOutcome {
  if (typeof result === 'string') return notRun('canary did not run', [result]);
  const c = result.canary;
  const evidence = { ...c, limits };
  const summary = `${c.requests} request(s) shadowed beside the ${c.baseline === 'current-release' ? 'current release' : 'recording manifests'}: flip rate ${(c.flipRate * 100).toFixed(1)}%, error rate ${(c.errorRate * 100).toFixed(1)}%`;
  if (c.requests < limits.minRequests)
    return notRun(summary, [`${c.requests} replayed request(s), at least ${limits.minRequests} needed for a canary verdict`], evidence);
  const reasons = [
    ...(c.flipRate > limits.maxFlipRate ? [`flip rate ${(c.flipRate * 100).toFixed(1)}% > ${(limits.maxFlipRate * 100).toFixed(1)}%`] : []),
    ...(c.errorRate > limits.maxErrorRate
      ? [`error rate ${(c.errorRate * 100).toFixed(1)}% > ${(limits.maxErrorRate * 100).toFixed(1)}%`]
      : []),
  ];
  return reasons.length ? fail(summary, reasons, evidence) : pass(summary, evidence);
}
