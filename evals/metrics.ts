import type { CaseResult, RunResult } from './run.js';
import type { IntervalMethod, Metric } from './metric-types.js';
import { wilsonCaseMeans } from './stats.js';

export type { IntervalMethod, Metric } from './metric-types.js';

export const BOOTSTRAP_SEED = 20240601;

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
