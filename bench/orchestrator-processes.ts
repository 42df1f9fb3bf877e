// Benchmark: the same negotiations with the agents in the orchestrator's process and with each
// agent as its own process (charter agents serve, tools through the gateway over MCP/HTTP with
// per-invocation tokens). Prints process start times and negotiation wall times of both modes:
// a cold batch (first invocations of every agent), a warm batch, and one negotiation at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openAuditLog } from '../audit/index.js';
import { contentPath } from '../common/index.js';
import {
  AgentSupervisor,
  openProcurementStack,
  referenceWorld,
  sampleRequisition,
  type ProcurementStackOptions,
} from '../orchestrator/index.js';
import { procurementHome } from '../tests/procurement-home.js';

const TENANTS = ['acme', 'globex', 'initech'];
/** Requisitions per tenant and batch: one per Kraljic quadrant. */
const PER_TENANT = 4;
const home = mkdtempSync(join(tmpdir(), 'charter-processes-bench-'));
const charterHome = await procurementHome(home);
const world = referenceWorld({ tenants: TENANTS, latencyMs: 20 });
const suppliers = await world.network.serve();

const seconds = (ms: number) => Number((ms / 1000).toFixed(2));

/** Opens a stack in its own folder, runs the batches, closes it; every figure in seconds. */
async function measure(mode: string, extra: Partial<ProcurementStackOptions>) {
  const dir = join(home, mode);
  const audit = await openAuditLog({ dir: join(dir, 'audit'), signer: charterHome.auditSigner, origin: `bench/${mode}` });
  const t0 = performance.now();
  const stack = await openProcurementStack({
    ...charterHome.stackOptions(dir, world, suppliers.url, audit),
    // Measured on a busy machine: a slow moment is a slow figure, not a failure.
    supplierClient: { timeoutMs: 120_000, failureThreshold: 1_000, openMs: 1_000 },
    ...extra,
  });
  const openMs = performance.now() - t0;
  const batch = async (from: number) => {
    const t = performance.now();
    const results = await Promise.all(
      TENANTS.flatMap((tenant) =>
        Array.from({ length: PER_TENANT }, (_, i) => stack.orchestrator.negotiate(tenant, sampleRequisition(tenant, from + i))),
      ),
    );
    const bad = results.filter((r) => r.status !== 'AWARDED');
    if (bad.length) throw new Error(`${mode}: ${bad.map((r) => `${r.negotiationId} ${r.status} ${r.reason}`).join('; ')}`);
    return performance.now() - t;
  };
  const coldMs = await batch(0);
  const warmMs = await batch(PER_TENANT);
  // One negotiation at a time, one per quadrant: the latency a single requisition sees.
  const single: number[] = [];
  for (let i = 0; i < PER_TENANT; i++) {
    const t = performance.now();
    await stack.orchestrator.negotiate('acme', sampleRequisition('acme', 2 * PER_TENANT + i));
    single.push(performance.now() - t);
  }
  const starts = stack.processes ? [...stack.processes.supervisor.startMs.values()] : [];
  await stack.close();
  await audit.close();
  return {
    openSeconds: seconds(openMs),
    concurrentColdSeconds: seconds(coldMs),
    concurrentWarmSeconds: seconds(warmMs),
    singleMeanMs: Math.round(single.reduce((a, b) => a + b, 0) / single.length),
    ...(starts.length ? { agentStartMs: { min: Math.round(Math.min(...starts)), max: Math.round(Math.max(...starts)) } } : {}),
  };
}

// One agent process alone: its start cost without seven others competing for the two cores.
const solo = new AgentSupervisor({
  agents: ['kraljic-classifier'],
  argv: (agent) => [
    process.execPath,
    contentPath('dist', 'cli', 'main.js'),
    'agents',
    'serve',
    '--agent',
    agent,
    '--gateway-url',
    'http://127.0.0.1:9/mcp',
    '--home',
    home,
    '--manifest',
    join(home, 'orchestrator', 'agent-processes', `${agent}.manifest.json`),
  ],
});

const inProcess = await measure('in-process', {});
const processes = await measure('processes', { agentProcesses: { home } });
await solo.start();
const soloStartMs = Math.round(solo.startMs.get('kraljic-classifier')!);
await solo.close();
await suppliers.close();
rmSync(home, { recursive: true, force: true });

process.stdout.write(
  JSON.stringify({
    bench: 'orchestrator-processes',
    tenants: TENANTS.length,
    negotiationsPerBatch: TENANTS.length * PER_TENANT,
    supplierLatencyMs: 20,
    strategy: 'rules',
    soloAgentStartMs: soloStartMs,
    inProcess,
    processes,
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
  }) + '\n',
);
