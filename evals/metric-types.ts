/**
 * A metric of an eval report, as types only and with no imports, so the console's front end
 * (browser code, no Node) reads the same definition the report is computed with.
 */

/** Rate metrics (pass/fail, Wilson interval) or mean metrics (scores in [0, 1], bootstrap interval). */
export type MetricKind = 'rate' | 'mean';

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
