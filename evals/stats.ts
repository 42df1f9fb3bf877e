import { seededRandom } from '../datasets/index.js';

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial rate: well-behaved near 0 and 1 and for small n,
 * where the normal approximation produces bounds outside [0, 1].
 */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (n === 0) return { estimate: 0, low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length ? sum / values.length : 0;
}

/** The q-quantile of sorted values with linear interpolation (type 7, as R and numpy default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface BootstrapOptions {
  iterations?: number;
  seed?: number;
}

/** Percentile bootstrap interval of the mean, with a fixed seed so a report is reproducible. */
export function bootstrapMeanInterval(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  const estimate = mean(values);
  if (values.length < 2) return { estimate, low: estimate, high: estimate };
  const iterations = opts.iterations ?? 2000;
  const random = seededRandom(opts.seed ?? 20240601);
  const means = new Array<number>(iterations);
  const n = values.length;
  for (let i = 0; i < iterations; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += values[Math.floor(random.next() * n)]!;
    means[i] = sum / n;
  }
  means.sort((a, b) => a - b);
  return { estimate, low: quantile(means, 0.025), high: quantile(means, 0.975) };
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space to stay exact for large n. */
function binomialHalfCdf(k: number, n: number): number {
  let logC = 0; // log C(n, 0)
  let total = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    total += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, total);
}

/** Two-sided exact binomial test of k successes out of n against p = 1/2. */
function exactSignP(k: number, n: number): number {
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(k, n - k), n));
}

/**
 * McNemar's exact test for paired pass/fail outcomes: b = pass->fail, c = fail->pass.
 * Only discordant pairs carry information; under H0 they split evenly.
 */
export function mcnemarExact(b: number, c: number): { b: number; c: number; pValue: number } {
  return { b, c, pValue: exactSignP(b, b + c) };
}

/** Sign test on paired differences (zeros dropped). */
export function signTest(diffs: readonly number[]): { positive: number; negative: number; pValue: number } {
  const positive = diffs.filter((d) => d > 0).length;
  const negative = diffs.filter((d) => d < 0).length;
  return { positive, negative, pValue: exactSignP(positive, positive + negative) };
}

/** Paired bootstrap: interval of the mean difference (current - baseline) over matched cases. */
export function pairedBootstrap(current: readonly number[], baseline: readonly number[], opts: BootstrapOptions = {}): Interval {
  if (current.length !== baseline.length) throw new RangeError('paired samples must have the same length');
  return bootstrapMeanInterval(
    current.map((v, i) => v - baseline[i]!),
    opts,
  );
}

/**
 * Cohen's kappa: agreement between two raters beyond chance,
 * (p_observed - p_expected) / (1 - p_expected). 1 when both raters agree and expected is 1.
 */
export function cohenKappa(pairs: ReadonlyArray<readonly [string, string]>): { accuracy: number; kappa: number; n: number } {
  const n = pairs.length;
  if (n === 0) return { accuracy: 0, kappa: 0, n };
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  let agree = 0;
  for (const [x, y] of pairs) {
    if (x === y) agree++;
    a.set(x, (a.get(x) ?? 0) + 1);
    b.set(y, (b.get(y) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [label, count] of a) pe += (count / n) * ((b.get(label) ?? 0) / n);
  const kappa = pe === 1 ? (po === 1 ? 1 : 0) : (po - pe) / (1 - pe);
  return { accuracy: po, kappa, n };
}
