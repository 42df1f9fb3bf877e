// Benchmark: the same negotiations with the agents in the orchestrator's process and with each
// agent as its own process (charter agents serve, tools through the gateway over MCP/HTTP with
// per-invocation tokens). Prints process start times and negotiation wall times of both modes:
// a cold batch (first invocations of every agent) once, then in rounds a warm batch and one
// negotiation at a time, the agents-as-processes figures beside the in-process ones (the raw
// in-process call is their floor) with the ratio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { emit, figure, inRounds, round3, type Sampled } from './harness.js';

const TENANTS = ['acme', 'globex', 'initech'];
/** Requisitions per tenant and batch: one per Kraljic quadrant. */
const PER_TENANT = 4;
const home = mkdtempSync(join(tmpdir(), 'charter-processes-bench-'));
const charterHome = await procurementHome(home);
const world = referenceWorld({ tenants: TENANTS, latencyMs: 20 });
const suppliers = await world.network.serve();

/** Opens a stack in its own folder, runs the batches, closes it; batches in seconds, single negotiations in ms. */
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
  let from = PER_TENANT;
  const warmSeconds = await inRounds(async () => {
    const ms = await batch(from);
    from += PER_TENANT;
    return ms / 1000;
  });
  // One negotiation at a time, one per quadrant: the latency a single requisition sees (mean of the four).
  const singleMs = await inRounds(async () => {
    let total = 0;
    for (let i = 0; i < PER_TENANT; i++) {
      const t = performance.now();
      await stack.orchestrator.negotiate('acme', sampleRequisition('acme', from++));
      total += performance.now() - t;
    }
    return total / PER_TENANT;
  });
  const starts = stack.processes ? [...stack.processes.supervisor.startMs.values()] : [];
  await stack.close();
  await audit.close();
  return {
    openSeconds: round3(openMs / 1000),
    concurrentColdSeconds: round3(coldMs / 1000),
    warmSeconds,
    singleMs,
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

/** A mode's figures; the agents-as-processes mode beside the in-process one. */
function report(m: Awaited<ReturnType<typeof measure>>, floor?: Awaited<ReturnType<typeof measure>>) {
  const limit = (what: string, sampled: Sampled | undefined) => (sampled ? { limit: { what, sampled } } : {});
  const { warmSeconds, singleMs, ...rest } = m;
  return {
    ...rest,
    concurrentWarmSeconds: figure(warmSeconds, {
      unit: 's',
      lowerIsBetter: true,
      ...limit('the same batch in process', floor?.warmSeconds),
    }),
    singleNegotiationMs: figure(singleMs, {
      unit: 'ms',
      lowerIsBetter: true,
      ...limit('the same negotiations in process', floor?.singleMs),
    }),
  };
}

emit('orchestrator-processes', {
  tenants: TENANTS.length,
  negotiationsPerBatch: TENANTS.length * PER_TENANT,
  supplierLatencyMs: 20,
  strategy: 'rules',
  soloAgentStartMs: soloStartMs,
  inProcess: report(inProcess),
  processes: report(processes, inProcess),
});
