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

/**
 * Wilson score interval with cases as the unit, over per-case values in [0, 1] (a case's pass
 * rate over its repeats, or its score). Repeats of one case are not independent draws, so the
 * unit is the case: n is the number of cases and the "successes" the sum of per-case means. For
 * a [0, 1] variable with mean p the variance is at most p(1 - p), the Bernoulli variance the
 * Wilson interval assumes, so the interval is conservative for scores and, unlike a percentile
 * bootstrap, never collapses to a point when every case scores 1.
 */
export function wilsonCaseMeans(perCase: readonly number[], z = Z95): Interval {
  let sum = 0;
  for (const v of perCase) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`per-case value ${v} is outside [0, 1]`);
    sum += v;
  }
  return wilsonInterval(sum, perCase.length, z);
}

/** Ranks with ties given the mean of their positions (1-based), as the signed-rank test needs. */
function midranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Exact signed-rank tail counts: dist[s] = sign assignments whose positive doubled-rank sum is s. */
function signedRankDistribution(doubledRanks: readonly number[]): number[] {
  const total = doubledRanks.reduce((a, b) => a + b, 0);
  let dist = new Array<number>(total + 1).fill(0);
  dist[0] = 1;
  for (const r of doubledRanks) {
    const next = dist.slice();
    for (let s = r; s <= total; s++) next[s]! += dist[s - r]!;
    dist = next;
  }
  return dist;
}

/** Above this many non-zero differences the normal approximation (tie-corrected) replaces the exact distribution. */
const WILCOXON_EXACT_MAX = 50;

/**
 * Wilcoxon signed-rank test on paired differences (current - baseline), two-sided. Zero
 * differences are dropped; tied magnitudes get mid-ranks. Exact (the null distribution of the
 * positive rank sum by enumeration over signs, counts exact below 2^53) up to 50 non-zero
 * pairs, else the normal approximation with tie and continuity corrections.
 */
export function wilcoxonSignedRank(diffs: readonly number[]): {
  positive: number;
  negative: number;
  wPlus: number;
  pValue: number;
  method: 'exact' | 'normal';
} {
  // Per-case means are ratios; round away float noise so equal magnitudes tie.
  const d = diffs.map((x) => Math.round(x * 1e12) / 1e12).filter((x) => x !== 0);
  const n = d.length;
  const positive = d.filter((x) => x > 0).length;
  if (n === 0) return { positive: 0, negative: 0, wPlus: 0, pValue: 1, method: 'exact' };
  const ranks = midranks(d.map(Math.abs));
  const wPlus = ranks.reduce((s, r, i) => (d[i]! > 0 ? s + r : s), 0);
  if (n <= WILCOXON_EXACT_MAX) {
    const doubled = ranks.map((r) => Math.round(r * 2));
    const dist = signedRankDistribution(doubled);
    const w2 = Math.round(wPlus * 2);
    const all = 2 ** n;
    let lower = 0;
    let upper = 0;
    dist.forEach((count, s) => {
      if (s <= w2) lower += count;
      if (s >= w2) upper += count;
    });
    return { positive, negative: n - positive, wPlus, pValue: Math.min(1, (2 * Math.min(lower, upper)) / all), method: 'exact' };
  }
  const ties = new Map<number, number>();
  for (const r of ranks) ties.set(r, (ties.get(r) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) tieTerm += t * t * t - t;
  const mu = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
  const zScore = sigma === 0 ? 0 : Math.max(0, Math.abs(wPlus - mu) - 0.5) / sigma;
  return { positive, negative: n - positive, wPlus, pValue: Math.min(1, 2 * normalUpperTail(zScore)), method: 'normal' };
}

/** P(Z > z) for a standard normal (Abramowitz & Stegun 7.1.26 via erfc, |error| < 1.5e-7). */
function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp(-x * x);
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
 * Per-label counts of two raters over the same rows: `counts[i][j]` rows the first rater (the
 * humans) labelled `labels[i]` and the second (the judge) labelled `labels[j]`. `labels` is every
 * label either rater used, sorted, so the diagonal is agreement and the counts add up to the rows.
 */
export function confusionMatrix(pairs: ReadonlyArray<readonly [string, string]>): { labels: string[]; counts: number[][] } {
  const labels = [...new Set(pairs.flat())].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => labels.map(() => 0));
  for (const [x, y] of pairs) counts[index.get(x)!]![index.get(y)!]!++;
  return { labels, counts };
}

/**
 * Cohen's kappa: agreement between two raters beyond chance,
 * (p_observed - p_expected) / (1 - p_expected). 1 when both raters agree and expected is 1.
 */
export function cohenKappa(pairs: ReadonlyArray<readonly [string, string]>): {
  accuracy: number;
  kappa: number;
  n: number;
  expected: number;
} {
  const n = pairs.length;
  if (n === 0) return { accuracy: 0, kappa: 0, n, expected: 0 };
  const { counts } = confusionMatrix(pairs);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const agree = sum(counts.map((row, i) => row[i]!));
  const po = agree / n;
  // Chance agreement: the product of the two raters' marginal shares, label by label.
  const pe = sum(counts.map((row, i) => (sum(row) / n) * (sum(counts.map((r) => r[i]!)) / n)));
  const kappa = pe === 1 ? (po === 1 ? 1 : 0) : (po - pe) / (1 - pe);
  return { accuracy: po, kappa, n, expected: pe };
}

/**
 * Cohen's kappa with a 95% interval: the Wilson interval of the observed agreement mapped
 * through kappa = (po - pe) / (1 - pe) with the chance agreement pe held fixed. It stays wide at
 * perfect agreement on few rows (24/24 agreeing gives a lower bound near 0.72 when pe is 0.5),
 * where the asymptotic standard error is 0. No chance-free agreement (pe = 1: one label only)
 * gives the interval [-1, 1].
 */
export function kappaInterval(pairs: ReadonlyArray<readonly [string, string]>): Interval & { accuracy: number; n: number } {
  const k = cohenKappa(pairs);
  if (k.n === 0 || k.expected === 1) return { estimate: k.kappa, low: -1, high: 1, accuracy: k.accuracy, n: k.n };
  const po = wilsonInterval(Math.round(k.accuracy * k.n), k.n);
  const toKappa = (p: number) => Math.max(-1, Math.min(1, (p - k.expected) / (1 - k.expected)));
  return { estimate: k.kappa, low: toKappa(po.low), high: toKappa(po.high), accuracy: k.accuracy, n: k.n };
}
