import type { DatasetCase } from '../../datasets/index.js';

/** One scorer's verdict on one case. `value` is 1/0 for rate metrics, the score for mean metrics. */
export interface ScoreResult {
  value: number;
  pass: boolean;
  reason: string;
  /** false: the scorer does not apply to this case (it is left out of the metric). */
  applicable?: boolean;
}

export type { MetricKind } from '../metric-types.js';

/** A scorer that needs only the output and the case (everything but the judge). */
export type LocalScorer = (output: unknown, testCase: DatasetCase) => ScoreResult;
