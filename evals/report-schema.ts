import { z } from 'zod';

export const EVAL_REPORT_PAYLOAD_TYPE = 'application/vnd.charter.eval-report+json';

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const Num = z.number().nullable();

const CaseScore = z.object({
  status: z.enum(['ok', 'error', 'not-run']),
  value: z.number(),
  pass: z.boolean(),
  reason: z.string(),
  judgeScore: z.number().optional(),
});
const Usage = z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: Num });

export const CaseResultSchema = z.object({
  id: z.string(),
  repeat: z.number().int().positive(),
  output: z.unknown(),
  error: z.string().nullable(),
  scores: z.record(z.string(), CaseScore),
  latencyMs: z.number(),
  usage: z.object({
    target: Usage.extend({ cached: z.boolean().optional() }).nullable(),
    judge: z.record(z.string(), Usage.extend({ cached: z.boolean() })),
  }),
});

export const MetricSchema = z.object({
  name: z.string(),
  kind: z.enum(['rate', 'mean']),
  status: z.enum(['ok', 'not-run']),
  method: z.enum(['wilson', 'wilson-case-means']).nullable(),
  n: z.number(),
  errors: z.number(),
  estimate: Num,
  low: Num,
  high: Num,
  gating: z.boolean(),
  note: z.string().nullable(),
});

export const ThresholdVerdictSchema = z.object({
  metric: z.string(),
  min: z.number(),
  bound: z.enum(['lower', 'point']),
  source: z.string(),
  pin: z.object({ suiteDigest: Digest, datasetDigest: Digest, minCases: z.number() }).optional(),
  observed: Num,
  verdict: z.enum(['pass', 'fail']),
  reason: z.string(),
});

export const Regression = z.object({ id: z.string(), metric: z.string(), baseline: z.number(), current: z.number(), reason: z.string() });

export const PairedTest = z.object({
  metric: z.string(),
  test: z.enum(['mcnemar-exact', 'wilcoxon-signed-rank']),
  /** How the p-value was computed (`exact` enumeration or the `normal` approximation). */
  pMethod: z.enum(['exact', 'normal']),
  /** How the interval of meanDiff was computed. */
  intervalMethod: z.literal('paired-bootstrap'),
  pairs: z.number(),
  /** Mean of current - baseline over paired cases, with its 95% interval. */
  meanDiff: z.number(),
  low: z.number(),
  high: z.number(),
  /** McNemar: pass->fail and fail->pass counts; sign test: worse and better counts. */
  worse: z.number(),
  better: z.number(),
  pValue: z.number(),
});

export const BaselineComparisonSchema = z.object({
  reportDigest: Digest,
  reportFile: z.string(),
  datasetChanged: z.boolean(),
  unpairedCases: z.number(),
  regressions: z.array(Regression),
  improvements: z.number(),
  tests: z.array(PairedTest),
});
export type BaselineComparison = z.infer<typeof BaselineComparisonSchema>;

/** The signed payload of `charter evals run` (DSSE, key purpose `eval-report`). */
export const EvalReport = z.object({
  apiVersion: z.literal('charter.dev/v1'),
  kind: z.literal('EvalReport'),
  id: z.string().uuid(),
  suite: z.object({ name: z.string(), description: z.string(), digest: Digest, repeats: z.number().int().positive() }),
  target: z.object({
    id: z.string(),
    spec: z.unknown(),
    /** The target agent's manifest digest (one manifest), else null. */
    manifestDigest: Digest.nullable(),
    agent: z.string().nullable(),
    /** Every verified manifest the run used (the gateway target uses one per agent). */
    manifests: z.array(z.object({ agent: z.string(), digest: Digest })),
  }),
  datasets: z.array(z.object({ ref: z.string(), digest: Digest, cases: z.number() })),
  judge: z
    .object({
      identity: z.record(z.string(), z.unknown()),
      digest: Digest,
      calibration: z.unknown().nullable(),
      gating: z.boolean(),
      note: z.string().nullable(),
    })
    .nullable(),
  engine: z.object({ charter: z.string(), promptfoo: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  /** New tokens only: answers served from the cache count as hits, with no tokens and no cost. */
  usage: z.object({
    targetTokens: z.number(),
    judgeTokens: z.number(),
    costUsd: Num,
    judgeCalls: z.number(),
    judgeCacheHits: z.number(),
    targetCacheHits: z.number(),
  }),
  metrics: z.array(MetricSchema),
  thresholds: z.array(ThresholdVerdictSchema),
  verdict: z.enum(['pass', 'fail']),
  baseline: BaselineComparisonSchema.nullable(),
  cases: z.array(CaseResultSchema),
});
export type EvalReport = z.infer<typeof EvalReport>;
