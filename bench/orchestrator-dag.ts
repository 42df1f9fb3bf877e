// Benchmark: negotiations at once across 10 tenants, rule strategies (no model), every agent
// step through the gateway (Cedar + audit) to the procurement tools and simulated suppliers
// (5 ms each, served over HTTP in this process). In rounds: CPU milliseconds per negotiation
// (this process: orchestrator, agents, gateway, tools, audit and the simulated suppliers; aim
// <= 50 ms), negotiations per CPU-second (what one core sustains), and the wall rate with the
// machine's cores available; time per node from the last round.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openAuditLog } from '../audit/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition, type NodeName } from '../orchestrator/index.js';
import { procurementHome } from '../tests/procurement-home.js';
import { emit, figure, inRounds, round3 } from './harness.js';

const TENANTS = 10;
const PER_TENANT_PER_ROUND = 3;
const dir = mkdtempSync(join(tmpdir(), 'charter-dag-bench-'));
const home = await procurementHome(dir);

const tenants = Array.from({ length: TENANTS }, (_, i) => `tenant${i}`);
const world = referenceWorld({ tenants, latencyMs: 5, spendThresholdCents: Object.fromEntries(tenants.map((t) => [t, 1_000_000_000])) });
const suppliers = await world.network.serve();
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
async function round(): Promise<number> {
  perNode.clear();
  const cpu0 = process.cpuUsage();
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
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    for (const h of r.history) perNode.set(h.node, [...(perNode.get(h.node) ?? []), h.ms]);
  }
  wallRates.push(results.length / wall);
  return (cpu.user + cpu.system) / 1000 / results.length;
}

await round(); // warm-up: JIT, pre-parsed policy sets, connections
const cpuMs = await inRounds(round);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, meanMs: Math.round(s.reduce((a, b) => a + b, 0) / s.length), p50Ms: Math.round(s[Math.floor(s.length / 2)]!) };
};
const decisions = audit.size;

await stack.close();
await audit.close();
await suppliers.close();
rmSync(dir, { recursive: true, force: true });

const sorted = [...wallRates].sort((a, b) => a - b);
emit('orchestrator-dag', {
  tenants: TENANTS,
  negotiationsPerRound: TENANTS * PER_TENANT_PER_ROUND,
  strategy: 'rules',
  cpuMsPerNegotiation: figure(cpuMs, { unit: 'ms', lowerIsBetter: true, aim: 50 }),
  negotiationsPerCpuSecond: round3(1000 / cpuMs.median),
  wallNegotiationsPerSecond: { median: round3(sorted[Math.floor(sorted.length / 2)]!), cores: availableParallelism() },
  gatewayDecisions: decisions,
  statuses,
  // Ingest, route and approve are orchestration only; the other nodes include their agent's tool calls.
  perNodeLastRound: Object.fromEntries([...perNode].map(([k, v]) => [k, stats(v)])),
});
