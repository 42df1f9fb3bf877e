// Benchmark: 100 negotiations at once across 10 tenants, rule strategies (no model), every
// agent step through the gateway (Cedar + audit) to the procurement tools and simulated
// suppliers. Prints wall time and the time per node (the orchestration overhead around agents).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openAuditLog } from '../audit/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition, type NodeName } from '../orchestrator/index.js';
import { procurementHome } from '../tests/procurement-home.js';

const TENANTS = 10;
const PER_TENANT = 10;
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

const t0 = performance.now();
const results = await Promise.all(
  tenants.flatMap((t) => Array.from({ length: PER_TENANT }, (_, i) => stack.orchestrator.negotiate(t, sampleRequisition(t, i)))),
);
const wallSeconds = (performance.now() - t0) / 1000;
await audit.flush();
const decisions = audit.size;

const perNode = new Map<NodeName, number[]>();
for (const r of results) for (const h of r.history) perNode.set(h.node, [...(perNode.get(h.node) ?? []), h.ms]);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    meanMs: Math.round(s.reduce((a, b) => a + b, 0) / s.length),
    p50Ms: Math.round(s[Math.floor(s.length / 2)]!),
    p95Ms: Math.round(s[Math.floor(s.length * 0.95)]!),
  };
};
const statuses: Record<string, number> = {};
for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;

await stack.close();
await audit.close();
await suppliers.close();
rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  JSON.stringify({
    bench: 'orchestrator-dag',
    tenants: TENANTS,
    negotiations: results.length,
    strategy: 'rules',
    wallSeconds: Number(wallSeconds.toFixed(2)),
    negotiationsPerSecond: Number((results.length / wallSeconds).toFixed(2)),
    gatewayDecisions: decisions,
    statuses,
    // Ingest, route and approve are orchestration only; the other nodes include their agent's tool calls.
    perNode: Object.fromEntries([...perNode].map(([k, v]) => [k, stats(v)])),
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
  }) + '\n',
);
