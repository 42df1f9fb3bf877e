// Benchmark: the spot-bidding fan-out inside the solicit_spot_bids tool, to 200 simulated
// suppliers answering after 50 ms each, served by a separate process over MCP (as suppliers
// are). Measures the tool itself in rounds (every quote, its idempotency key and its ledger
// write), beside the raw calls: the same 200 quotes sent at once straight through the same
// supplier client (no ledger, no parsing), which is the floor the tool stands on.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { procurementTools, SupplierClient } from '../agents/index.js';
import { NegotiationStore, OrchestratorLedger, referenceWorld, sampleRequisition } from '../orchestrator/index.js';
import { emit, figure, inRounds, round3, serveSuppliers } from './harness.js';

const SUPPLIERS = 200;
const LATENCY_MS = 50;
const tenant = 'bench';

const server = await serveSuppliers({ tenants: [tenant], perTenant: SUPPLIERS, latencyMs: LATENCY_MS });
const url = server.url;

const dir = mkdtempSync(join(tmpdir(), 'charter-fanout-'));
const world = referenceWorld({ tenants: [tenant], suppliersPerTenant: SUPPLIERS });
const store = new NegotiationStore(join(dir, 'negotiations.sqlite'));
const client = new SupplierClient(url, { timeoutMs: 10_000, failureThreshold: 1_000, openMs: 1_000 });
const solicit = procurementTools(client, new OrchestratorLedger(store, world.directory)).solicit_spot_bids!;
const pool = world.directory.approvedSuppliers(tenant);

let run = 0;
let bids = 0;
let unreachable = 0;
/** One solicit_spot_bids call to every supplier of a fresh negotiation: milliseconds. */
async function solicitOnce(): Promise<number> {
  const requisition = sampleRequisition(tenant, run++ * 4, { budgetCents: 1_000_000_000 });
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
  const ms = performance.now() - t0;
  bids += out.bids.length;
  unreachable += out.unreachable.length;
  return ms;
}

/** The same quotes straight through the supplier client, all at once: milliseconds. */
async function rawQuotesOnce(): Promise<number> {
  const requisition = sampleRequisition(tenant, run++ * 4);
  const t0 = performance.now();
  await Promise.all(
    pool.map((s) =>
      client.quote(tenant, {
        supplierId: s.supplierId,
        negotiationId: requisition.negotiationId,
        idempotencyKey: `raw-${run}-${s.supplierId}`,
        round: 1,
        lines: requisition.lines,
      }),
    ),
  );
  return performance.now() - t0;
}

// The first run opens the connections; it is reported apart.
const coldFirstRunMs = round3(await solicitOnce());
bids = 0;
unreachable = 0;
const solicitMs = await inRounds(solicitOnce);
const rawMs = await inRounds(rawQuotesOnce);
const rounds = solicitMs.rounds.length;
await client.close();
server.close();
store.close();
rmSync(dir, { recursive: true, force: true });

emit('orchestrator-fanout', {
  suppliers: SUPPLIERS,
  supplierLatencyMs: LATENCY_MS,
  coldFirstRunMs,
  solicitSpotBidsMs: figure(solicitMs, {
    unit: 'ms',
    lowerIsBetter: true,
    aim: 2000,
    limit: { what: `the same ${SUPPLIERS} quotes at once straight through the supplier client (MCP, no ledger)`, sampled: rawMs },
  }),
  bidsPerRun: bids / rounds,
  unreachablePerRun: unreachable / rounds,
});
