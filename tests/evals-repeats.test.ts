import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyKraljic, KraljicInput } from '../agents/index.js';
import { writeFileAtomic } from '../common/index.js';
import { runEval, wilsonInterval, type Target } from '../evals/index.js';
import { generateEd25519Key, loadPrivateKey, LocalKeySigner } from '../signing/index.js';

let home: string;
let signer: LocalKeySigner;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'charter-evals-repeats-'));
  process.env.CHARTER_HOME = home;
  signer = new LocalKeySigner(loadPrivateKey(generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']).privateKeyFile));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/**
 * A nondeterministic target for the harness: the right quadrant on two calls of three per case
 * (a counter, no randomness), reporting token usage and cost the way a model provider would.
 */
function flakyTarget(): Target {
  const calls = new Map<string, number>();
  return {
    id: 'test:flaky-kraljic',
    manifestDigest: null,
    run: async (c) => {
      const n = (calls.get(c.id) ?? 0) + 1;
      calls.set(c.id, n);
      const right = classifyKraljic(KraljicInput.parse(c.input));
      const output = n % 3 === 0 ? { ...right, quadrant: right.quadrant === 'Strategic' ? 'Leverage' : 'Strategic' } : right;
      return { output, usage: { inputTokens: 50, outputTokens: 10, costUsd: 0.0001 } };
    },
  };
}

describe('repeats for nondeterministic targets', () => {
  it(
    'runs every case `repeats` times, averages per case and bootstraps over cases; usage and cost add up',
    { timeout: 180_000 },
    async () => {
      const suite = join(home, 'repeats.yaml');
      writeFileAtomic(
        suite,
        [
          'name: kraljic-repeats',
          'description: three runs per case',
          'target: { kind: strategy, agent: kraljic-classifier }',
          'dataset: kraljic-classification@v1',
          'repeats: 3',
          'scorers:',
          '  - { name: accuracy, type: exact, output: quadrant, expected: expected.quadrant }',
          'thresholds:',
          '  - { metric: accuracy, min: 0.6 }',
          '  - { metric: accuracy, min: 0.9, bound: point }',
          '',
        ].join('\n'),
      );
      const r = await runEval({ suite, target: flakyTarget(), signer, home, audit: null, concurrency: 8 });
      expect(r.report.cases).toHaveLength(240 * 3);
      const m = r.report.metrics.find((x) => x.name === 'accuracy')!;
      expect(m).toMatchObject({ method: 'wilson-case-means', n: 240 });
      expect(m.estimate).toBeCloseTo(2 / 3, 12);
      // Cases are the unit: the interval is Wilson's over 240 per-case means, not a point (a
      // percentile bootstrap has no between-case spread to resample here and collapsed to 2/3).
      expect(m.low).toBeCloseTo(wilsonInterval(160, 240).low, 12);
      expect(m.low).toBeLessThan(0.61);
      expect(r.report.thresholds.map((t) => t.verdict)).toEqual(['pass', 'fail']);
      expect(r.report.usage.targetTokens).toBe(240 * 3 * 60);
      expect(r.report.usage.costUsd).toBeCloseTo(240 * 3 * 0.0001, 9);
      expect(r.report.cases[0]!.usage.target).toEqual({ inputTokens: 50, outputTokens: 10, costUsd: 0.0001 });
    },
  );
});
