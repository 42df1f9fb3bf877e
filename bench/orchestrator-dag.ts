// Benchmark: negotiations at once across 10 tenants, rule strategies (no model), every agent
// step through the gateway (Cedar + audit) to the procurement tools and simulated suppliers
// (5 ms each, served over MCP/HTTP by `charter negotiations suppliers` in their own process, as
// suppliers are other systems). In rounds: CPU milliseconds per negotiation of Charter's process
// (orchestrator, agents, gateway, tools, audit, the supplier client; aim <= 50 ms) and, beside
// it, of the suppliers' process (Linux: /proc/<pid>/schedstat; not Charter's, printed so nothing
// is hidden); negotiations per second on one core (what Charter's CPU per negotiation allows one
// busy core) and on all the machine's cores (two here: the wall rate measured, one runner process
// with its audit threads, and the suppliers' process); time per node from the last round.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openAuditLog } from '../audit/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition, type NodeName } from '../orchestrator/index.js';
import { procurementHome } from '../tests/procurement-home.js';
import { emit, figure, inRounds, round3, serveSuppliers, summarize } from './harness.js';

const TENANTS = 10;
const PER_TENANT_PER_ROUND = 3;
const dir = mkdtempSync(join(tmpdir(), 'charter-dag-bench-'));
const home = await procurementHome(dir);

const tenants = Array.from({ length: TENANTS }, (_, i) => `tenant${i}`);
const LATENCY_MS = 5;
const world = referenceWorld({
  tenants,
  latencyMs: LATENCY_MS,
  spendThresholdCents: Object.fromEntries(tenants.map((t) => [t, 1_000_000_000])),
});
// The same suppliers the world describes (referenceWorld is deterministic), in their own process.
const suppliers = await serveSuppliers({ tenants, latencyMs: LATENCY_MS });
const audit = await openAuditLog({ dir: join(dir, 'audit'), signer: home.auditSigner, origin: 'bench/orchestrator' });
const stack = await openProcurementStack({
  ...home.stackOptions(dir, world, suppliers.url, audit),
  // Measured under load: generous timeouts so a slow moment is a slow figure, not a failure.
  supplierClient: { timeoutMs: 120_000, failureThreshold: 1_000, openMs: 1_000 },
  upstreamGuard: { timeoutMs: 300_000, maxConcurrent: 1_000 },
});

let next = 0;
const statuses: Record<string, number> = {};
const perNode = new Map<NodeName, number[]>();
const wallRates: number[] = [];
const supplierCpu: number[] = [];
async function round(): Promise<number> {
  perNode.clear();
  const cpu0 = process.cpuUsage();
  const sup0 = suppliers.cpuMs();
  const t0 = performance.now();
  const batch = next;
  next += PER_TENANT_PER_ROUND;
  const results = await Promise.all(
    tenants.flatMap((t) =>
      Array.from({ length: PER_TENANT_PER_ROUND }, (_, i) => stack.orchestrator.negotiate(t, sampleRequisition(t, batch + i))),
    ),
  );
  await audit.flush();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sup1 = suppliers.cpuMs();
  if (sup0 !== undefined && sup1 !== undefined) supplierCpu.push((sup1 - sup0) / results.length);
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    for (const h of r.history) perNode.set(h.node, [...(perNode.get(h.node) ?? []), h.ms]);
  }
  wallRates.push(results.length / wall);
  return (cpu.user + cpu.system) / 1000 / results.length;
}

await round(); // warm-up: JIT, pre-parsed policy sets, connections
supplierCpu.length = 0;
wallRates.length = 0;
const cpuMs = await inRounds(round);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, meanMs: Math.round(s.reduce((a, b) => a + b, 0) / s.length), p50Ms: Math.round(s[Math.floor(s.length / 2)]!) };
};
const decisions = audit.size;

await stack.close();
await audit.close();
suppliers.close();
rmSync(dir, { recursive: true, force: true });

const sorted = [...wallRates].sort((a, b) => a - b);
emit('orchestrator-dag', {
  tenants: TENANTS,
  negotiationsPerRound: TENANTS * PER_TENANT_PER_ROUND,
  strategy: 'rules',
  cpuMsPerNegotiation: figure(cpuMs, { unit: 'ms', lowerIsBetter: true, aim: 50 }),
  suppliersCpuMsPerNegotiation: supplierCpu.length ? summarize(supplierCpu) : null,
  negotiationsPerSecond: {
    oneCore: round3(1000 / cpuMs.median),
    // One runner process: its main thread is one core's work; the others run its audit threads and the suppliers.
    allCores: { cores: availableParallelism(), runnerProcesses: 1, measured: round3(sorted[Math.floor(sorted.length / 2)]!) },
  },
  gatewayDecisions: decisions,
  statuses,
  // Ingest, route and approve are orchestration only; the other nodes include their agent's tool calls.
  perNodeLastRound: Object.fromEntries([...perNode].map(([k, v]) => [k, stats(v)])),
});
