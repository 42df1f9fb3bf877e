import { describe, expect, it } from 'vitest';
import {
  bootstrapMeanInterval,
  cohenKappa,
  confusionMatrix,
  kappaInterval,
  mcnemarExact,
  pairedBootstrap,
  quantile,
  wilcoxonSignedRank,
  wilsonCaseMeans,
  wilsonInterval,
} from './stats.js';

describe('wilsonInterval', () => {
  it('matches the textbook value for 8 of 10', () => {
    const w = wilsonInterval(8, 10);
    expect(w.estimate).toBe(0.8);
    expect(w.low).toBeCloseTo(0.4902, 4);
    expect(w.high).toBeCloseTo(0.9433, 4);
  });
  it('stays inside [0, 1] at the extremes', () => {
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(0, 10).high).toBeCloseTo(0.2775, 4);
    const all = wilsonInterval(240, 240);
    expect(all.high).toBe(1);
    expect(all.low).toBeCloseTo(0.9842, 4);
  });
  it('is the whole range with no observations', () => {
    expect(wilsonInterval(0, 0)).toEqual({ estimate: 0, low: 0, high: 1 });
  });
});

describe('exact tests', () => {
  it('McNemar: 1 vs 9 discordant pairs is p = 2 * 11 / 1024', () => {
    expect(mcnemarExact(1, 9).pValue).toBeCloseTo(22 / 1024, 12);
    expect(mcnemarExact(9, 1).pValue).toBeCloseTo(22 / 1024, 12);
  });
  it('McNemar: no discordant pairs is no evidence', () => {
    expect(mcnemarExact(0, 0).pValue).toBe(1);
    expect(mcnemarExact(5, 5).pValue).toBe(1);
  });
  it('McNemar stays exact for large n', () => {
    expect(mcnemarExact(0, 40).pValue).toBeCloseTo(2 * 0.5 ** 40, 20);
  });
  it('Wilcoxon signed-rank: the Hollander & Wolfe depression example is exact p = 2 * 10 / 512', () => {
    const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
    const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
    const w = wilcoxonSignedRank(x.map((v, i) => v - y[i]!));
    expect(w).toMatchObject({ positive: 7, negative: 2, wPlus: 40, method: 'exact' });
    expect(w.pValue).toBeCloseTo(20 / 512, 12);
  });
  it('Wilcoxon weighs magnitudes where the sign test cannot: small losses against one big gain', () => {
    // Five cases drop by 0.01, one gains 0.5: the sign test sees 5 of 6 worse; the ranks see the big gain.
    const w = wilcoxonSignedRank([-0.01, -0.01, -0.01, -0.01, -0.01, 0.5, 0, 0]);
    expect(w).toMatchObject({ positive: 1, negative: 5, wPlus: 6 });
    expect(w.pValue).toBeGreaterThan(0.4);
    expect(wilcoxonSignedRank([0, 0]).pValue).toBe(1);
  });
  it('Wilcoxon switches to the tie-corrected normal approximation above 50 pairs', () => {
    const w = wilcoxonSignedRank(Array.from({ length: 60 }, (_, i) => (i < 45 ? -0.1 : 0.1)));
    expect(w.method).toBe('normal');
    // 45 of 60 equal-magnitude drops: z = (W+ - mu) / sigma with all ranks tied.
    expect(w.pValue).toBeGreaterThan(0.00005);
    expect(w.pValue).toBeLessThan(0.001);
  });
});

describe('intervals with cases as the unit', () => {
  it('32 of 32 cases passing gives the same lower bound with 1 or 3 repeats (no collapse to [1, 1])', () => {
    const once = wilsonInterval(32, 32);
    const perCase = Array.from({ length: 32 }, () => (1 + 1 + 1) / 3);
    expect(wilsonCaseMeans(perCase)).toEqual(once);
    expect(once.low).toBeCloseTo(0.8928, 4);
    // The percentile bootstrap it replaces collapses there.
    expect(bootstrapMeanInterval(perCase)).toEqual({ estimate: 1, low: 1, high: 1 });
  });
  it('scores in [0, 1] at the boundary keep a width; values outside [0, 1] are refused', () => {
    const m = wilsonCaseMeans([1, 1, 1, 1, 1]);
    expect(m.low).toBeLessThan(0.6);
    expect(m.high).toBe(1);
    const mixed = wilsonCaseMeans([0.5, 0.75, 1, 0.25]);
    expect(mixed.estimate).toBeCloseTo(0.625, 12);
    expect(() => wilsonCaseMeans([1.5])).toThrow(RangeError);
  });
});

describe('bootstrap', () => {
  it('is reproducible with a fixed seed and brackets the mean', () => {
    const values = Array.from({ length: 50 }, (_, i) => (i % 5) / 4);
    const a = bootstrapMeanInterval(values, { seed: 7 });
    const b = bootstrapMeanInterval(values, { seed: 7 });
    expect(a).toEqual(b);
    expect(a.estimate).toBeCloseTo(0.5, 12);
    expect(a.low).toBeLessThan(0.5);
    expect(a.high).toBeGreaterThan(0.5);
    // The standard error of this sample's mean is ~0.05: the 95% interval is about +-0.1.
    expect(a.high - a.low).toBeGreaterThan(0.12);
    expect(a.high - a.low).toBeLessThan(0.28);
  });
  it('collapses on a constant sample', () => {
    const c = bootstrapMeanInterval([0.75, 0.75, 0.75]);
    expect(c).toEqual({ estimate: 0.75, low: 0.75, high: 0.75 });
  });
  it('pairs differences and refuses unequal lengths', () => {
    const d = pairedBootstrap([1, 1, 0, 1], [1, 0, 0, 0]);
    expect(d.estimate).toBe(0.5);
    expect(() => pairedBootstrap([1], [1, 2])).toThrow(RangeError);
  });
  it('quantile interpolates linearly', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
  });
});

describe("Cohen's kappa", () => {
  it('has an interval whose lower bound stays low on few rows: 0.75 on 24 rows does not clear 0.6', () => {
    const pairs: Array<[string, string]> = [
      ...Array.from({ length: 11 }, (): [string, string] => ['pass', 'pass']),
      ...Array.from({ length: 10 }, (): [string, string] => ['fail', 'fail']),
      ['pass', 'fail'],
      ['fail', 'pass'],
      ['pass', 'fail'],
    ];
    const k = kappaInterval(pairs);
    expect(k.estimate).toBeCloseTo(0.75, 1);
    expect(k.low).toBeLessThan(0.6);
    expect(k.high).toBeGreaterThan(0.9);
    const perfect = kappaInterval(Array.from({ length: 24 }, (_, i): [string, string] => (i % 2 ? ['pass', 'pass'] : ['fail', 'fail'])));
    expect(perfect.estimate).toBe(1);
    expect(perfect.low).toBeCloseTo((0.8621 - 0.5) / 0.5, 3);
    expect(kappaInterval([['pass', 'pass']]).low).toBe(-1);
  });
  it('matches the classic 2x2 example (po 0.7, pe 0.5 -> 0.4)', () => {
    const pairs: Array<[string, string]> = [
      ...Array.from({ length: 20 }, (): [string, string] => ['yes', 'yes']),
      ...Array.from({ length: 5 }, (): [string, string] => ['yes', 'no']),
      ...Array.from({ length: 10 }, (): [string, string] => ['no', 'yes']),
      ...Array.from({ length: 15 }, (): [string, string] => ['no', 'no']),
    ];
    const k = cohenKappa(pairs);
    expect(k.accuracy).toBeCloseTo(0.7, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
  });
  it('counts every row once per (human, judge) label pair: the cells add up to the rows, the diagonal to the agreements', () => {
    const pairs: Array<[string, string]> = [
      ...Array.from({ length: 20 }, (): [string, string] => ['pass', 'pass']),
      ...Array.from({ length: 5 }, (): [string, string] => ['pass', 'fail']),
      ...Array.from({ length: 10 }, (): [string, string] => ['fail', 'pass']),
      ...Array.from({ length: 14 }, (): [string, string] => ['fail', 'fail']),
      ['fail', 'error'],
    ];
    const m = confusionMatrix(pairs);
    expect(m.labels).toEqual(['error', 'fail', 'pass']);
    expect(m.counts).toEqual([
      [0, 0, 0],
      [1, 14, 10],
      [0, 5, 20],
    ]);
    expect(m.counts.flat().reduce((a, b) => a + b, 0)).toBe(pairs.length);
    expect(m.counts.reduce((a, row, i) => a + row[i]!, 0) / pairs.length).toBe(cohenKappa(pairs).accuracy);
    expect(confusionMatrix([])).toEqual({ labels: [], counts: [] });
  });
  it('is 0 for a rater that always says the same thing, 1 for perfect agreement', () => {
    expect(
      cohenKappa([
        ['pass', 'pass'],
        ['fail', 'pass'],
        ['pass', 'pass'],
        ['fail', 'pass'],
      ]).kappa,
    ).toBe(0);
    expect(
      cohenKappa([
        ['pass', 'pass'],
        ['fail', 'fail'],
      ]).kappa,
    ).toBe(1);
  });
});
