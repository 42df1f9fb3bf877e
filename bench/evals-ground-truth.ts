// Benchmark: a 1,000-case ground-truth suite offline (the Kraljic suite's scorers over 1,000
// generated categories), end to end through `runEval`: dataset load and digest check, promptfoo,
// metrics with intervals, thresholds, signing and writing the report. A second pass puts a
// fixed simulated I/O delay in front of the strategy (no model: a timer) to show what the
// concurrency setting does for model-backed targets. Prints one JSON object.
//   node dist/bench/evals-ground-truth.js [--cases N] [--concurrency N] [--latency-ms N]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateDataset } from '../datasets/index.js';
import { loadPromptfoo, runEval, strategyTarget, type Target } from '../evals/index.js';
import { generateEd25519Key, loadPrivateKey, LocalKeySigner } from '../signing/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}
const cases = arg('cases', 1000);
const concurrency = arg('concurrency', 8);
const latencyMs = arg('latency-ms', 20);

const home = mkdtempSync(join(tmpdir(), 'charter-bench-evals-'));
process.env.CHARTER_HOME = home;
try {
  const datasetsRoot = join(home, 'datasets');
  generateDataset('kraljic-classification', { root: datasetsRoot, count: cases, seed: 1 });
  const key = generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']);
  const signer = new LocalKeySigner(loadPrivateKey(key.privateKeyFile));

  let t = performance.now();
  await loadPromptfoo();
  const importMs = performance.now() - t;

  t = performance.now();
  const offline = await runEval({ suite: 'kraljic-classification', datasetsRoot, signer, home, audit: null, concurrency });
  const offlineMs = performance.now() - t;

  // Simulated latency: the same strategy behind a timer, at concurrency 1 and at the configured level.
  const strategy = strategyTarget('kraljic-classifier');
  const slow: Target = {
    ...strategy,
    id: `${strategy.id}+${latencyMs}ms`,
    run: async (c, repeat) => (await sleep(latencyMs), strategy.run(c, repeat)),
  };
  const latencyCases = Math.min(cases, 200);
  const latencyRoot = join(home, 'datasets-latency');
  generateDataset('kraljic-classification', { root: latencyRoot, count: latencyCases, seed: 1 });
  const timedSlow = async (c: number) => {
    const s = performance.now();
    await runEval({ suite: 'kraljic-classification', datasetsRoot: latencyRoot, signer, home, audit: null, concurrency: c, target: slow });
    return performance.now() - s;
  };
  const serialMs = await timedSlow(1);
  const parallelMs = await timedSlow(concurrency);

  process.stdout.write(
    JSON.stringify({
      bench: 'evals-ground-truth',
      cases,
      scorers: offline.report.metrics.length,
      concurrency,
      promptfooImportMs: Math.round(importMs),
      runMs: Math.round(offline.report.durationMs),
      endToEndMs: Math.round(offlineMs),
      casesPerSecond: Math.round((cases / offlineMs) * 1000),
      verdict: offline.report.verdict,
      simulatedLatency: {
        latencyMs,
        cases: latencyCases,
        serialMs: Math.round(serialMs),
        concurrentMs: Math.round(parallelMs),
        speedup: Math.round((serialMs / parallelMs) * 10) / 10,
      },
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      load1: Math.round(loadavg()[0]! * 100) / 100,
    }) + '\n',
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
