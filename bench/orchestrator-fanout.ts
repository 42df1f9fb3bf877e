// Benchmark: the spot-bidding fan-out inside the solicit_spot_bids tool, to 200 simulated
// suppliers answering after 50 ms each, served by a separate process over MCP (as suppliers
// are). Measures the tool itself: every quote, its idempotency key and its ledger write.
import { spawn } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { procurementTools, SupplierClient } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { NegotiationStore, OrchestratorLedger, referenceWorld, sampleRequisition } from '../orchestrator/index.js';

const SUPPLIERS = 200;
const LATENCY_MS = 50;
const RUNS = 5;
const tenant = 'bench';

const server = spawn(
  process.execPath,
  [
    contentPath('dist', 'cli', 'main.js'),
    'negotiations',
    'suppliers',
    '--tenants',
    tenant,
    '--per-tenant',
    String(SUPPLIERS),
    '--latency',
    String(LATENCY_MS),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout! }).once('line', resolve);
  server.once('exit', (code) => reject(new Error(`supplier server exited ${code}`)));
});

const dir = mkdtempSync(join(tmpdir(), 'charter-fanout-'));
const world = referenceWorld({ tenants: [tenant], suppliersPerTenant: SUPPLIERS });
const store = new NegotiationStore(join(dir, 'negotiations.sqlite'));
const client = new SupplierClient(url, { timeoutMs: 10_000, failureThreshold: 1_000, openMs: 1_000 });
const solicit = procurementTools(client, new OrchestratorLedger(store, world.directory)).solicit_spot_bids!;
const pool = world.directory.approvedSuppliers(tenant);

const wall: number[] = [];
let bids = 0;
let unreachable = 0;
for (let i = 0; i < RUNS + 1; i++) {
  const requisition = sampleRequisition(tenant, i * 4, { budgetCents: 1_000_000_000 });
  store.createDraft({
    tenantId: tenant,
    negotiationId: requisition.negotiationId,
    requisition,
    status: 'ACTIVE',
    nextNode: 'strategy',
    reason: null,
    pool,
    route: { node: '4a', agent: 'spot-bidding', eligible: pool, filtered: [] },
    history: [],
  });
  const t0 = performance.now();
  const out = (await solicit.run({
    tenant_id: tenant,
    negotiationId: `${tenant}/${requisition.negotiationId}`,
    supplierIds: pool.map((s) => `${tenant}/${s.supplierId}`),
    amountCents: 1_000_000_000,
    deadlineHours: 12,
  } as never)) as { bids: unknown[]; unreachable: unknown[] };
  // The first run opens the connections; it is reported apart.
  if (i > 0) {
    wall.push(performance.now() - t0);
    bids += out.bids.length;
    unreachable += out.unreachable.length;
  } else wall.push(performance.now() - t0);
}
await client.close();
server.kill('SIGTERM');
store.close();
rmSync(dir, { recursive: true, force: true });

const warm = wall.slice(1).sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    bench: 'orchestrator-fanout',
    suppliers: SUPPLIERS,
    supplierLatencyMs: LATENCY_MS,
    runs: RUNS,
    coldFirstRunMs: Math.round(wall[0]!),
    p50Ms: Math.round(warm[Math.floor(warm.length / 2)]!),
    maxMs: Math.round(warm.at(-1)!),
    bidsPerRun: bids / RUNS,
    unreachablePerRun: unreachable / RUNS,
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    aims: { p50Ms: 2000 },
  }) + '\n',
);
