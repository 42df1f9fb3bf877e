/**
 * Benchmark: the gateway's in-process decision path for a typical tool call (JWT already
 * verified; tenant binding, argument contract, Cedar through the manifest's pre-parsed policy
 * set with the call's entity slice, one audit append). Prints one JSON object:
 *   sequential p50/p99 per call for a read (audit accepted) and a guarded write (audit durable),
 *   per-stage means (checks: tenant binding, contract, digest; entities: slice resolution;
 *   cedar: the engine's request building and the wasm call; audit: the append), decisions/s on one core (closed loop, many calls in flight), a worker
 *   pool (one Cedar instance per worker thread, one audit writer on the main thread), and a
 *   profile of the wasm boundary (what a statefulIsAuthorized call costs as its inputs change).
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { AuditRecord } from '../audit/index.js';
import { loadTrustedKeys } from '../signing/index.js';
import { loadVerifiedManifest, type CedarEntity, type EntityUid } from '../policy-packs/index.js';
import { DecisionPath, EntityDirectory, openDecisionPath, type DecisionData, type GatewayCall } from '../gateway/index.js';
import { FIXTURE_ENTITIES, openGatewayHarness } from '../tests/gateway-harness.js';

const identity = { principal: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' };
const READ: GatewayCall = { identity, tool: 'list_suppliers', args: { category: 'steel' } };
const GUARDED: GatewayCall = {
  identity,
  tool: 'submit_bid',
  args: { negotiationId: 'acme-n1', supplierId: 'acme-s1', amountCents: 120_000, shippingCents: 500 },
};

const round = (n: number) => Math.round(n * 1000) / 1000;

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(s[s.length - 1]!), n: s.length };
}

/** The entity data with the time spent resolving entity slices counted (the "entities" stage). */
class TimedEntities implements DecisionData {
  ms = 0;
  constructor(private readonly inner: DecisionData) {}
  resolve(uid: EntityUid): CedarEntity[] | undefined {
    const t0 = performance.now();
    const out = this.inner.resolve(uid);
    this.ms += performance.now() - t0;
    return out;
  }
  limits(tenant: string): Record<string, unknown> {
    return this.inner.limits(tenant);
  }
}

/** Calls one at a time: latency per call and mean stage times. */
async function sequential(path: DecisionPath, entities: TimedEntities, call: GatewayCall, n: number) {
  const lat: number[] = [];
  const stages = { checks: 0, entities: 0, cedar: 0, audit: 0 };
  for (let i = 0; i < n; i++) {
    entities.ms = 0;
    const t0 = performance.now();
    const d = await path.decide(call);
    lat.push(performance.now() - t0);
    if (d.record.decision !== 'allow') throw new Error(`benchmark call was denied: ${d.record.reasons.join('; ')}`);
    stages.checks += path.lastStages.checks;
    stages.entities += entities.ms;
    stages.cedar += path.lastStages.cedar - entities.ms;
    stages.audit += path.lastStages.audit;
  }
  const mean = (v: number) => round(v / n);
  return {
    ...percentiles(lat),
    stagesMeanMs: { checks: mean(stages.checks), entities: mean(stages.entities), cedar: mean(stages.cedar), audit: mean(stages.audit) },
  };
}

/** Closed loop with `inFlight` concurrent callers for `ms`: decisions a second. */
async function throughput(path: DecisionPath, call: GatewayCall, inFlight: number, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await path.decide(call);
        done++;
      }
    }),
  );
  return Math.round(done / (ms / 1000));
}

/** Times one statefulIsAuthorized variant (the decision core, without the gateway around it). */
function wasmProfile(digest: string, schemaText: string) {
  // The profile pre-parses the schema under its own name (the engine's naming is its own business).
  const schemaName = `bench-profile:${digest}`;
  if (cedar.preparseSchema(schemaName, schemaText).type !== 'success') throw new Error('profile schema does not parse');
  const tenant = { uid: { type: 'Charter::Tenant', id: 'acme' }, attrs: {}, parents: [] };
  const agent = { uid: { type: 'Charter::Agent', id: 'spot-bidding' }, attrs: {}, parents: [] };
  const negotiation = (i: number) => ({
    uid: { type: 'Procurement::Negotiation', id: `acme-n${i}` },
    attrs: { status: 'open' },
    parents: [tenant.uid],
  });
  const request = (entities: cedar.EntityJson[], validateRequest: boolean, schema: boolean): cedar.StatefulAuthorizationCall => ({
    principal: agent.uid,
    action: { type: 'Procurement::Action', id: 'submit_bid' },
    resource: { type: 'Procurement::Negotiation', id: 'acme-n1' },
    context: {
      tenant: { __entity: tenant.uid },
      approval: { distinctApprovers: 0 },
      input: { amountCents: 120_000, shippingCents: 500, supplierId: 'acme-s1' },
      limits: { maxBidCents: 500_000 },
    },
    preparsedPolicySetId: digest,
    ...(schema ? { preparsedSchemaName: schemaName } : {}),
    validateRequest,
    entities,
  });
  const time = (call: cedar.StatefulAuthorizationCall, n = 2000) => {
    for (let i = 0; i < 200; i++) cedar.statefulIsAuthorized(call);
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const a = cedar.statefulIsAuthorized(call);
      lat.push(performance.now() - t0);
      if (a.type !== 'success') throw new Error(`profile call failed: ${JSON.stringify(a.errors)}`);
    }
    return percentiles(lat).p50;
  };
  const slice = [negotiation(1), tenant, agent];
  const many = [...slice, ...Array.from({ length: 20 }, (_, i) => negotiation(i + 2))];
  return {
    note: 'p50 ms of one statefulIsAuthorized call for the typical guarded write',
    schemaValidatedSlice3: time(request(slice, true, true)),
    schemaNoRequestValidationSlice3: time(request(slice, false, true)),
    noSchemaSlice3: time(request(slice, false, false)),
    schemaValidatedSlice23: time(request(many, true, true)),
    noSchemaSlice23: time(request(many, false, false)),
  };
}

interface WorkerSetup {
  manifestFile: string;
  trustedKeysFile: string;
  approvalsDir: string;
  ms: number;
  inFlight: number;
}

/** Worker: its own Cedar instance and decision path; records go to the main thread's audit log. */
async function workerMain(setup: WorkerSetup): Promise<void> {
  const port = parentPort!;
  let next = 0;
  const waiting = new Map<number, (seq: number) => void>();
  port.on('message', (m: { id: number; seq: number }) => {
    waiting.get(m.id)?.(m.seq);
    waiting.delete(m.id);
  });
  const path = openDecisionPath({
    manifestFiles: [setup.manifestFile],
    trustedKeysFile: setup.trustedKeysFile,
    entitiesFile: FIXTURE_ENTITIES,
    approvalsDir: setup.approvalsDir,
    audit: {
      append: (record: AuditRecord) =>
        new Promise((resolve) => {
          const id = next++;
          waiting.set(id, (seq) => resolve({ seq }));
          port.postMessage({ id, record });
        }),
    },
  });
  for (let i = 0; i < 300; i++) await path.decide(GUARDED);
  port.postMessage({ ready: true });
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  const perSecond = await throughput(path, GUARDED, setup.inFlight, setup.ms);
  port.postMessage({ perSecond });
}

async function pool(
  setup: Omit<WorkerSetup, 'ms' | 'inFlight'>,
  audit: { append(r: AuditRecord): Promise<{ seq: number }> },
  workers: number,
) {
  const ms = 3000;
  const threads = Array.from(
    { length: workers },
    () => new Worker(new URL(import.meta.url), { workerData: { ...setup, ms, inFlight: 32 } }),
  );
  const ready = threads.map(
    (w) =>
      new Promise<void>((resolve, reject) => {
        w.on('error', reject);
        w.on('message', (m: { id?: number; record?: AuditRecord; ready?: boolean }) => {
          if (m.record) void audit.append(m.record).then(({ seq }) => w.postMessage({ id: m.id, seq }));
          else if (m.ready) resolve();
        });
      }),
  );
  await Promise.all(ready);
  const results = threads.map(
    (w) =>
      new Promise<number>((resolve) => w.on('message', (m: { perSecond?: number }) => m.perSecond !== undefined && resolve(m.perSecond))),
  );
  threads.forEach((w) => w.postMessage({ go: true }));
  const perWorker = await Promise.all(results);
  await Promise.all(threads.map((w) => w.terminate()));
  return { workers, decisionsPerSecond: perWorker.reduce((a, b) => a + b, 0), perWorker };
}

async function main(): Promise<void> {
  const h = await openGatewayHarness();
  try {
    const entities = new TimedEntities(EntityDirectory.load(FIXTURE_ENTITIES));
    const verified = loadVerifiedManifest(h.manifestFile, h.trustedKeysFile);
    const path = new DecisionPath({
      manifests: [verified],
      data: entities,
      audit: h.audit,
      approvals: h.approvals,
      trustedKeys: loadTrustedKeys(h.trustedKeysFile),
    });
    for (let i = 0; i < 500; i++) {
      await path.decide(READ);
      await path.decide(GUARDED);
    }
    const read = await sequential(path, entities, READ, 3000);
    const guarded = await sequential(path, entities, GUARDED, 1000);
    const oneCoreRead = await throughput(path, READ, 32, 3000);
    const oneCoreGuarded = await throughput(path, GUARDED, 32, 3000);
    const setup = { manifestFile: h.manifestFile, trustedKeysFile: h.trustedKeysFile, approvalsDir: h.approvals.dir };
    const cores = availableParallelism();
    const pools = [];
    for (const n of [1, cores]) pools.push(await pool(setup, h.audit, n));
    const profile = wasmProfile(h.manifestDigest, verified.manifest.schema.text);
    process.stdout.write(
      JSON.stringify({
        benchmark: 'gateway-decision',
        unit: 'ms',
        loadAverage1m: round(loadavg()[0]!),
        aims: { p50: 0.5, p99: 1.5, decisionsPerSecondPerCore: 2000 },
        readCall: { ...read, note: 'list_suppliers (read): audit append acknowledged on acceptance, durable within 20 ms' },
        guardedCall: { ...guarded, note: 'submit_bid (write-low): audit append waits for WAL fdatasync' },
        oneCore: { readDecisionsPerSecond: oneCoreRead, guardedDecisionsPerSecond: oneCoreGuarded, inFlight: 32 },
        workerPool: { call: 'submit_bid', cores, runs: pools },
        wasmBoundary: profile,
        auditRecords: h.audit.size,
      }) + '\n',
    );
  } finally {
    await h.close();
  }
}

if (isMainThread) await main();
else await workerMain(workerData as WorkerSetup);
