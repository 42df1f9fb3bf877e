// Benchmark: a 1,000-case ground-truth suite offline (the Kraljic suite's scorers over 1,000
// generated categories), end to end through `runEval`: dataset load and digest check, promptfoo,
// metrics with intervals, thresholds, signing and writing the report. On the shared harness
// (bench/harness.ts): rounds with min and median, beside the floor it stands on (the strategy
// alone over the same cases: no promptfoo, no scoring, no signing) with the ratio, the aim
// (under 10 s) with met / not met, and the load average. promptfoo's import is paid once per
// process, so the cold figure (import + first run, what one CLI invocation pays) is given too.
// A second measurement puts a fixed simulated I/O delay in front of the strategy (no model: a
// timer) to show what the concurrency setting does for model-backed targets. Prints one JSON line.
//   node dist/bench/evals-ground-truth.js [--cases N] [--concurrency N] [--latency-ms N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateDataset, loadDataset } from '../datasets/index.js';
import { loadPromptfoo, runEval, strategyTarget, type Target } from '../evals/index.js';
import { generateEd25519Key, loadPrivateKey, LocalKeySigner } from '../signing/index.js';
import { emit, figure, inRounds, round3 } from './harness.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}
const cases = arg('cases', 1000);
const concurrency = arg('concurrency', 8);
const latencyMs = arg('latency-ms', 20);
/** The aim: the 1,000-case ground-truth suite runs in under 10 s. */
const AIM_MS = 10_000;

const home = mkdtempSync(join(tmpdir(), 'charter-bench-evals-'));
process.env.CHARTER_HOME = home;
try {
  const datasetsRoot = join(home, 'datasets');
  generateDataset('kraljic-classification', { root: datasetsRoot, count: cases, seed: 1 });
  const key = generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']);
  const signer = new LocalKeySigner(loadPrivateKey(key.privateKeyFile));
  const strategy = strategyTarget('kraljic-classifier');

  const t = performance.now();
  await loadPromptfoo();
  const importMs = performance.now() - t;

  let verdict = '';
  let scorers = 0;
  const suiteRun = async (): Promise<number> => {
    const s = performance.now();
    const { report } = await runEval({ suite: 'kraljic-classification', datasetsRoot, signer, home, audit: null, concurrency });
    verdict = report.verdict;
    scorers = report.metrics.length;
    return performance.now() - s;
  };
  const suite = await inRounds(suiteRun);
  const firstRoundMs = suite.rounds[0]!;

  // The floor: the strategy alone over the same cases, in one loop.
  const data = loadDataset('kraljic-classification@v1', datasetsRoot);
  const floor = await inRounds(async () => {
    const s = performance.now();
    for (const c of data.cases) await strategy.run(c, 1);
    return performance.now() - s;
  });

  // Simulated latency: the same strategy behind a timer, at concurrency 1 and at the configured level.
  const slow: Target = {
    ...strategy,
    id: `${strategy.id}+${latencyMs}ms`,
    run: async (c, repeat) => (await sleep(latencyMs), strategy.run(c, repeat)),
  };
  const latencyCases = Math.min(cases, 100);
  const latencyRoot = join(home, 'datasets-latency');
  generateDataset('kraljic-classification', { root: latencyRoot, count: latencyCases, seed: 1 });
  const timedSlow = (c: number) => async () => {
    const s = performance.now();
    await runEval({ suite: 'kraljic-classification', datasetsRoot: latencyRoot, signer, home, audit: null, concurrency: c, target: slow });
    return performance.now() - s;
  };
  const serial = await inRounds(timedSlow(1));
  const parallel = await inRounds(timedSlow(concurrency));

  const endToEnd = figure(suite, {
    unit: 'ms',
    lowerIsBetter: true,
    aim: AIM_MS,
    limit: { what: `the kraljic strategy alone over the same ${cases} cases (no promptfoo, scoring or signing)`, sampled: floor },
  });
  const coldMs = round3(importMs + firstRoundMs);
  emit('evals-ground-truth', {
    cases,
    scorers,
    concurrency,
    verdict,
    suiteMs: endToEnd,
    casesPerSecond: Math.round((cases / suite.median) * 1000),
    cold: { promptfooImportMs: round3(importMs), firstRunMs: round3(firstRoundMs), totalMs: coldMs, aim: AIM_MS, met: coldMs <= AIM_MS },
    aim: `1,000-case ground-truth suite under ${AIM_MS / 1000} s: ${endToEnd.met && coldMs <= AIM_MS ? 'met' : 'not met'}`,
    simulatedLatency: {
      latencyMs,
      cases: latencyCases,
      serialMs: figure(serial, { unit: 'ms', lowerIsBetter: true }),
      concurrentMs: figure(parallel, { unit: 'ms', lowerIsBetter: true }),
      speedup: round3(serial.median / parallel.median),
    },
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
  });
} finally {
  rmSync(home, { recursive: true, force: true });
}
