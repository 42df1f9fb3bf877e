import type { Metric } from './metrics.js';

export interface Threshold {
  metric: string;
  min: number;
  bound: 'lower' | 'point';
  /** Where it came from: `suite` (the suite file) or `manifest:<agent>` (agent.evalThresholds of a signed manifest). */
  source: string;
  /** Manifest thresholds: the evidence they accept. */
  pin?: EvidencePin;
}

/** What a manifest threshold pins: the suite and dataset digests and the fewest cases measured. */
export interface EvidencePin {
  suiteDigest: string;
  datasetDigest: string;
  minCases: number;
}

/**
 * Why a run's evidence does not satisfy a pin, or null when it does: a report of a suite with
 * the same name but another file or dataset (a copy over a one-row set) proves nothing about
 * the pinned one, and neither does a metric measured on fewer cases than pinned.
 */
export function pinMismatch(
  pin: EvidencePin,
  evidence: { suiteDigest: string; datasetDigest: string | null; metric: { n: number } | undefined },
): string | null {
  if (evidence.suiteDigest !== pin.suiteDigest) return `suite digest ${evidence.suiteDigest} is not the pinned ${pin.suiteDigest}`;
  if (evidence.datasetDigest !== pin.datasetDigest)
    return `dataset digest ${evidence.datasetDigest ?? '(none)'} is not the pinned ${pin.datasetDigest}`;
  if (evidence.metric && evidence.metric.n < pin.minCases)
    return `measured on ${evidence.metric.n} cases, the pin requires ${pin.minCases}`;
  return null;
}

export interface ThresholdVerdict extends Threshold {
  observed: number | null;
  verdict: 'pass' | 'fail';
  reason: string;
}

/**
 * A threshold passes only when its metric ran, may gate, and its bound (the lower end of the
 * 95% interval by default, or the point estimate) reaches the minimum. Everything else fails closed.
 */
export function checkThresholds(
  thresholds: readonly Threshold[],
  metrics: readonly Metric[],
  evidence?: { suiteDigest: string; datasetDigest: string | null },
): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const m = metrics.find((x) => x.name === t.metric);
    const fail = (reason: string, observed: number | null = null): ThresholdVerdict => ({ ...t, observed, verdict: 'fail', reason });
    const mismatch = t.pin ? pinMismatch(t.pin, { ...(evidence ?? { suiteDigest: '(unknown)', datasetDigest: null }), metric: m }) : null;
    if (mismatch) return fail(`not the pinned evidence: ${mismatch}`);
    if (!m) return fail(`no metric '${t.metric}' in this suite`);
    if (m.status === 'not-run') return fail(`metric not run (${m.note ?? 'no observations'})`);
    if (!m.gating) return fail(`metric may not gate: ${m.note ?? 'not calibrated'}`);
    const observed = t.bound === 'lower' ? m.low! : m.estimate!;
    const what = t.bound === 'lower' ? '95% lower bound' : 'estimate';
    return observed >= t.min
      ? { ...t, observed, verdict: 'pass', reason: `${what} ${observed.toFixed(4)} >= ${t.min}` }
      : fail(`${what} ${observed.toFixed(4)} < ${t.min}`, observed);
  });
}
