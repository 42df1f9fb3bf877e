import type { Metric } from './metrics.js';

export interface Threshold {
  metric: string;
  min: number;
  bound: 'lower' | 'point';
  /** Where it came from: `suite` (the suite file) or `manifest:<agent>` (agent.evalThresholds of a signed manifest). */
  source: string;
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
export function checkThresholds(thresholds: readonly Threshold[], metrics: readonly Metric[]): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const m = metrics.find((x) => x.name === t.metric);
    const fail = (reason: string, observed: number | null = null): ThresholdVerdict => ({ ...t, observed, verdict: 'fail', reason });
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
