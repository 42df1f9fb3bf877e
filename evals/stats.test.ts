import { describe, expect, it } from 'vitest';
import { bootstrapMeanInterval, cohenKappa, mcnemarExact, pairedBootstrap, quantile, signTest, wilsonInterval } from './stats.js';

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
  it('sign test drops ties', () => {
    const s = signTest([0.2, 0.1, 0.3, 0.5, 0.4, -0.1, 0, 0]);
    expect(s).toMatchObject({ positive: 5, negative: 1 });
    expect(s.pValue).toBeCloseTo((2 * 7) / 64, 12);
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
