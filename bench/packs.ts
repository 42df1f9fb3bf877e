// Benchmark: compile every agent's manifest and run the whole pack test corpus over the shipped
// packs, with Cedar's pre-parsed (stateful) API. Prints one JSON object.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { contentPath } from '../common/index.js';
import { compileManifest, runPackTests, Workspace } from '../policy-packs/index.js';

const dir = process.argv[2] ?? contentPath('policy-packs', 'packs');

interface Timing {
  seconds: number;
  /** This process's CPU time (all its threads, compilers included): steadier than wall time on a shared machine. */
  cpuSeconds: number;
}

const round = (n: number) => Number(n.toFixed(3));

function timed<T>(fn: () => T): [T, Timing] {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const out = fn();
  const used = process.cpuUsage(cpu);
  return [out, { seconds: round((performance.now() - start) / 1000), cpuSeconds: round((used.user + used.system) / 1e6) }];
}

// Each measurement starts from a fresh load, so parsing, composition and validation are counted.
// The first one is cold: nothing of the YAML parser, Ajv or Cedar's wasm has been compiled yet.
const [ws, loadCold] = timed(() => new Workspace(dir));
const [manifests, compileOnlyCold] = timed(() => ws.catalog.agents().map((a) => compileManifest(ws, a)));
const compileCold = {
  seconds: round(loadCold.seconds + compileOnlyCold.seconds),
  cpuSeconds: round(loadCold.cpuSeconds + compileOnlyCold.cpuSeconds),
};
const [report, corpus] = timed(() => runPackTests(new Workspace(dir)));
// Again from a fresh load once everything is warm (a long-lived process, not a cold CLI).
const [, compileWarm] = timed(() => {
  const fresh = new Workspace(dir);
  return fresh.catalog.agents().map((a) => compileManifest(fresh, a));
});
const [, corpusFreshWarm] = timed(() => runPackTests(new Workspace(dir)));

// Decisions alone: re-run the corpus decisions against already-built engines.
const built = new Workspace(dir);
runPackTests(built);
const [again, decide] = timed(() => runPackTests(built));

process.stdout.write(
  JSON.stringify({
    bench: 'packs',
    packsDir: dir,
    agents: manifests.length,
    compileAllManifestsSeconds: compileCold.seconds,
    compileAllManifestsCpuSeconds: compileCold.cpuSeconds,
    coldLoadSeconds: loadCold.seconds,
    corpusCases: report.cases.length,
    corpusFailures: report.failures.length,
    corpusSeconds: corpus.seconds,
    corpusCpuSeconds: corpus.cpuSeconds,
    compileAllManifestsWarmSeconds: compileWarm.seconds,
    corpusFreshLoadWarmSeconds: corpusFreshWarm.seconds,
    corpusDecisionsOnlySeconds: decide.seconds,
    decisionsPerSecond: Math.round(again.cases.length / decide.seconds),
    coveragePercent: report.coveragePercent,
    // The reference machine has two cores shared with other work: the load says how busy it was.
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    aims: { compileAllManifestsSeconds: 2, corpusSeconds: 3, corpusCasesAtLeast: 300 },
  }) + '\n',
);
