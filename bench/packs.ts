// Benchmark: compile every agent's manifest and run the whole pack test corpus over the shipped
// packs, with Cedar's pre-parsed (stateful) API. Prints one JSON object.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { contentPath } from '../common/index.js';
import { compileManifest, runPackTests, Workspace } from '../policy-packs/index.js';

const dir = process.argv[2] ?? contentPath('policy-packs', 'packs');

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const out = fn();
  return [out, (performance.now() - start) / 1000];
}

// Each measurement starts from a fresh load, so parsing, composition and validation are counted.
const [manifests, compileSeconds] = timed(() => {
  const ws = new Workspace(dir);
  return ws.catalog.agents().map((a) => compileManifest(ws, a));
});
const [report, corpusSeconds] = timed(() => runPackTests(new Workspace(dir)));
// Again from a fresh load once the wasm module is warm (a long-lived process, not a cold CLI).
const [, compileWarmSeconds] = timed(() => {
  const fresh = new Workspace(dir);
  return fresh.catalog.agents().map((a) => compileManifest(fresh, a));
});
const [, corpusFreshWarmSeconds] = timed(() => runPackTests(new Workspace(dir)));

// Decisions alone: re-run the corpus decisions against already-built engines.
const ws = new Workspace(dir);
runPackTests(ws);
const [again, decideSeconds] = timed(() => runPackTests(ws));

process.stdout.write(
  JSON.stringify({
    bench: 'packs',
    packsDir: dir,
    agents: manifests.length,
    compileAllManifestsSeconds: Number(compileSeconds.toFixed(3)),
    corpusCases: report.cases.length,
    corpusFailures: report.failures.length,
    corpusSeconds: Number(corpusSeconds.toFixed(3)),
    compileAllManifestsWarmSeconds: Number(compileWarmSeconds.toFixed(3)),
    corpusFreshLoadWarmSeconds: Number(corpusFreshWarmSeconds.toFixed(3)),
    corpusDecisionsOnlySeconds: Number(decideSeconds.toFixed(3)),
    decisionsPerSecond: Math.round(again.cases.length / decideSeconds),
    coveragePercent: report.coveragePercent,
    // The reference machine has two cores shared with other work: the load says how busy it was.
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    aims: { compileAllManifestsSeconds: 2, corpusSeconds: 3, corpusCasesAtLeast: 300 },
  }) + '\n',
);
