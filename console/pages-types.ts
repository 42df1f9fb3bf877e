/**
 * The JSON the approvals, kill-switch, releases, evals and packs APIs answer, shared by the
 * server modules and the pages (no Node imports: the front end type-checks it as browser code).
 * Domain types come from the domains' type-only modules, which import nothing (the one exception
 * to importing another folder through its index.ts: an index pulls in Node code the browser has not).
 */
import type { Metric } from '../evals/metric-types.js';
import type { DecisionChange, ManifestDiff } from '../policy-packs/diff-types.js';

export interface ApprovalView {
  id: string;
  tenant: string;
  agent: string;
  tool: string;
  tier: string;
  argsDigest: string;
  args: Record<string, unknown>;
  required: number;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  approvals: Array<{ approver: string; keyId: string; tokenId: string; at: string }>;
  denials: Array<{ approver: string; reason: string; at: string }>;
  secondsLeft: number;
}

export interface SwitchRow {
  kind: 'tenant' | 'agent';
  id: string;
  by: string;
  at: string;
  reason: string;
}

export interface KillSwitchesView {
  engaged: SwitchRow[];
  tenants: string[];
  agents: string[];
  history: Array<{ id: string; time: string; summary: string }>;
}

export interface ReplayFlipView {
  recordId: string;
  time: string;
  tenant: string;
  tool: string;
  from: 'allow' | 'deny';
  to: 'allow' | 'deny';
  determining: string[];
  highRisk: boolean;
  accepted: boolean;
}

export interface GateView {
  gate: string;
  enforcement: string;
  status: 'pass' | 'fail' | 'not-run';
  summary: string;
  reasons: string[];
  waiver?: { approvers: string[]; items: Array<{ check: string; reasons: string[] }> } | null;
}

export interface ReleaseEntry {
  action: 'promote' | 'rollback';
  manifestDigest: string;
  recordDigest: string;
  releasedAt: string;
  releasedBy: string;
  reason: string | null;
}

export interface ReleaseCell {
  environment: string;
  agent: string;
  current:
    | (ReleaseEntry & {
        gates: GateView[];
        approvals: Array<{ approver: string; keyId: string; digest: string }>;
        evalReports: Array<{ suite: string; digest: string }>;
        flips: ReplayFlipView[];
        replay: Record<string, unknown> | null;
        canary: Record<string, unknown> | null;
      })
    | null;
  history: ReleaseEntry[];
}

export interface ReleaseMatrix {
  environments: string[];
  agents: string[];
  cells: ReleaseCell[];
}

/** A metric with its interval, as the report records it (the domain's own type-only module). */
export type MetricView = Metric;

export interface UsageView {
  targetTokens: number;
  judgeTokens: number;
  costUsd: number | null;
  judgeCalls: number;
  judgeCacheHits: number;
  targetCacheHits: number;
}

export interface ReportSummary {
  id: string;
  suite: string;
  digest: string;
  file: string;
  startedAt: string;
  verdict: 'pass' | 'fail';
  manifests: Array<{ agent: string; digest: string }>;
  metrics: MetricView[];
  usage: UsageView;
  baseline: { regressions: number; improvements: number } | null;
}

export interface EvalList {
  reports: ReportSummary[];
  unverified: Array<{ file: string; error: string }>;
}

export interface CalibrationView {
  n: number;
  errors: number;
  accuracy: number;
  kappa: number;
  kappaLow: number;
  kappaHigh: number;
  minKappa: number;
  passed: boolean;
  /** Calibration record version: 2 carries `confusion`; a version 1 record (no field) has no per-label counts. */
  version?: number;
  /** `counts[i][j]`: rows humans labelled `labels[i]` that the judge labelled `labels[j]` ("error": the judge failed). */
  confusion?: { labels: string[]; counts: number[][] };
  disagreements: Array<{ id: string; expected: string; judged: string; reason: string }>;
}

export interface EvalReportView {
  id: string;
  digest: string;
  suite: { name: string; description: string; digest: string; repeats: number };
  target: { id: string; agent: string | null; manifests: Array<{ agent: string; digest: string }> };
  datasets: Array<{ ref: string; digest: string; cases: number }>;
  judge: {
    identity: Record<string, unknown>;
    digest: string;
    calibration: CalibrationView | null;
    gating: boolean;
    note: string | null;
  } | null;
  startedAt: string;
  durationMs: number;
  usage: UsageView;
  metrics: MetricView[];
  thresholds: Array<{ metric: string; min: number; bound: string; verdict: 'pass' | 'fail'; reason: string }>;
  verdict: 'pass' | 'fail';
  baseline: {
    reportFile: string;
    datasetChanged: boolean;
    unpairedCases: number;
    regressions: Array<{ id: string; metric: string; baseline: number; current: number; reason: string }>;
    improvements: number;
    tests: Array<{
      metric: string;
      test: string;
      pairs: number;
      meanDiff: number;
      low: number;
      high: number;
      worse: number;
      better: number;
      pValue: number;
    }>;
  } | null;
  caseCount: number;
  failing: Array<{
    id: string;
    repeat: number;
    error: string | null;
    scores: Record<string, { status: string; value: number; pass: boolean; reason: string }>;
  }>;
}

export interface ManifestSummary {
  digest: string;
  agent: string;
  where: string[];
  tools: Array<{ name: string; tier: string }>;
  packs: Array<{ name: string; layer: string; version: string; coverage: { covered: number; total: number; percent: number } | null }>;
  policies: number;
  previousManifestDigest: string | null;
}

export interface ManifestListView {
  manifests: ManifestSummary[];
  unverified: Array<{ file: string; error: string }>;
}

/** What `charter packs diff` answers (the domain's own type-only module). */
export type DecisionChangeView = DecisionChange;
export type ManifestDiffView = ManifestDiff;
