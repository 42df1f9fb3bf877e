import type { CaseResult, RunResult } from './run.js';
import type { MetricKind } from './scorers/types.js';
import { wilsonCaseMeans } from './stats.js';

export const BOOTSTRAP_SEED = 20240601;

export type IntervalMethod = 'wilson' | 'wilson-case-means';

export interface Metric {
  name: string;
  kind: MetricKind;
  /** `not-run`: no observations (e.g. no judge configured); its thresholds fail closed. */
  status: 'ok' | 'not-run';
  /**
   * How the interval was computed, cases always the unit: `wilson` when every case has one
   * pass/fail outcome, `wilson-case-means` when per-case values are fractions (a pass rate over
   * repeats, or a score in [0, 1]); see stats.ts `wilsonCaseMeans`.
   */
  method: IntervalMethod | null;
  /** Cases observed (repeats of one case count once). */
  n: number;
  /** Case runs that ended in a target or judge error (scored as failures). */
  errors: number;
  estimate: number | null;
  low: number | null;
  high: number | null;
  /** Whether thresholds may use this metric (judge metrics need a calibrated judge). */
  gating: boolean;
  note: string | null;
}

/** Per case id, the mean of a metric over its repeats, for the cases where it ran. */
export function perCaseValues(cases: readonly CaseResult[], metric: string): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const c of cases) {
    const s = c.scores[metric];
    if (!s || s.status === 'not-run') continue;
    const acc = sums.get(c.id) ?? { sum: 0, n: 0 };
    acc.sum += s.value;
    acc.n += 1;
    sums.set(c.id, acc);
  }
  return new Map([...sums].map(([id, { sum, n }]) => [id, sum / n]));
}

export interface JudgeGate {
  gating: boolean;
  note: string | null;
}

/** Every scorer as a metric with a 95% interval. Errors count as failures (value 0), never as passes. */
export function computeMetrics(run: RunResult, judgeGate: JudgeGate): Metric[] {
  return run.scorers.map(({ name, kind, type }) => {
    const values = [...perCaseValues(run.cases, name).values()];
    const errors = run.cases.filter((c) => c.scores[name]?.status === 'error').length;
    const isJudge = type === 'judge';
    const base = { name, kind, n: values.length, errors, gating: isJudge ? judgeGate.gating : true, note: isJudge ? judgeGate.note : null };
    if (values.length === 0)
      return {
        ...base,
        status: 'not-run',
        method: null,
        estimate: null,
        low: null,
        high: null,
        gating: false,
        note: isJudge ? 'no judge configured' : 'no observations',
      };
    const method: IntervalMethod = values.every((v) => v === 0 || v === 1) ? 'wilson' : 'wilson-case-means';
    return { ...base, status: 'ok', method, ...wilsonCaseMeans(values) };
  });
}
