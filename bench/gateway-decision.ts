/**
 * Benchmark: the gateway's in-process decision path for a tool call of the shipped spot-bidding
 * manifest (JWT already verified; tenant binding, argument contract, Cedar through the manifest's
 * pre-parsed policy set with the call's entity slice, one audit append). Prints one JSON object:
 *   read and guarded-write p50 in rounds (Cedar asked the fast form of the request, as shipped),
 *   each beside the raw cedar-wasm call on the whole request with the ratio; the same read with
 *   the whole request sent; per-stage means (checks: tenant binding,
 *   contract, digest; entities: slice resolution; cedar: request building and the wasm call;
 *   audit: the append); decisions/s on one core (closed loop, many calls in flight); a worker
 *   pool (one Cedar instance per worker thread, one audit writer on the main thread).
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { AuditRecord } from '../audit/index.js';
import { loadTrustedKeys } from '../signing/index.js';
import { loadVerifiedManifest, PolicyEngine, type CedarEntity, type EntityUid } from '../policy-packs/index.js';
import { DecisionPath, EntityDirectory, openDecisionPath, type DecisionData, type GatewayCall } from '../gateway/index.js';
import { contentPath, countDecision, startMetrics, startTracing, tracer } from '../common/index.js';
import { DEFAULT_GATEWAY_ENTITIES } from '../evals/index.js';
import { openGatewayHarness } from '../tests/gateway-harness.js';
import { startOtlpReceiver } from '../tests/servers/otlp.js';
import { emit, figure, inRounds, percentiles, round3, timeEach } from './harness.js';

// The shipped spot-bidding agent (node 4a) over the entity data the pack tests decide on.
const identity = { principal: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' };
const READ: GatewayCall = { identity, tool: 'list_eligible_suppliers', args: { negotiationId: 'acme-neg-spot' } };
const GUARDED: GatewayCall = {
  identity,
  tool: 'solicit_spot_bids',
  args: { negotiationId: 'acme-neg-spot', supplierIds: ['acme-sup-approved'], deadlineHours: 12, amountCents: 400_000 },
};
const ENTITIES = DEFAULT_GATEWAY_ENTITIES();

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

/**
 * Calls one at a time: latency per call and mean stage times. A read is acknowledged as soon as
 * the audit log accepted it, so a loop of reads never gives the event loop a turn: without one,
 * the log's WAL flush (20 ms timer) and sealing (every second) would not run during a round but
 * pile up (thousands of records held in memory, collected by whichever later round meets the
 * major GC). A gateway serving requests yields between them, so the loop yields, untimed, every
 * YIELD_EVERY calls; and `settle` (before each round) lets what earlier rounds appended be sealed.
 */
async function sequential(path: DecisionPath, entities: TimedEntities, call: GatewayCall, n: number) {
  const lat: number[] = [];
  const stages = { checks: 0, entities: 0, cedar: 0, audit: 0 };
  for (let i = 0; i < n; i++) {
    if (i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
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
  const mean = (v: number) => round3(v / n);
  return {
    ...percentiles(lat),
    stagesMeanMs: { checks: mean(stages.checks), entities: mean(stages.entities), cedar: mean(stages.cedar), audit: mean(stages.audit) },
  };
}

const YIELD_EVERY = 50;

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
    entitiesFile: ENTITIES,
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

/** Milliseconds (p50) of the raw cedar-wasm call the engine makes for `call`: the decision's floor. */
function rawCedarP50(engine: PolicyEngine, data: DecisionData, call: GatewayCall, n: number): Promise<number> {
  const built = engine.cedarRequest(
    {
      agent: call.identity.agentId,
      tenant: call.identity.tenantId,
      tool: call.tool,
      args: call.args as Record<string, unknown>,
      approvers: [],
      limits: data.limits(call.identity.tenantId),
    },
    data,
  );
  if ('refused' in built) throw new Error(`benchmark call has no Cedar request: ${built.refused}`);
  return timeEach(() => {
    const a = cedar.statefulIsAuthorized(built.request);
    if (a.type !== 'success' || a.response.decision !== 'allow') throw new Error('raw benchmark call was not allowed');
  }, n).then((lat) => percentiles(lat).p50);
}

async function main(): Promise<void> {
  const h = await openGatewayHarness({ packsDir: contentPath('policy-packs', 'packs'), agent: 'spot-bidding', entitiesFile: ENTITIES });
  try {
    const entities = new TimedEntities(EntityDirectory.load(ENTITIES));
    const verified = loadVerifiedManifest(h.manifestFile, h.trustedKeysFile);
    const pathWith = (decisionCache: false | object, requestSlices: false | object = {}) =>
      new DecisionPath({
        manifests: [verified],
        data: entities,
        audit: h.audit,
        approvals: h.approvals,
        trustedKeys: loadTrustedKeys(h.trustedKeysFile),
        decisionCache,
        requestSlices,
      });
    // Every decision asks Cedar (the fast form of the request, as shipped); the cached path
    // answers a repeated request from its cache; the whole-request path sends Cedar everything.
    const path = pathWith(false);
    const cachedPath = pathWith({});
    const wholePath = pathWith(false, false);
    const engine = PolicyEngine.fromManifest(verified.manifest, h.manifestDigest);
    for (let i = 0; i < 500; i++) {
      await path.decide(READ);
      await path.decide(GUARDED);
      await cachedPath.decide(READ);
      await wholePath.decide(READ);
    }
    // Each round starts with every record of earlier rounds and phases sealed (see sequential).
    const settled = async <T>(measure: () => Promise<T>): Promise<T> => {
      await h.audit.flush();
      return measure();
    };
    const readRounds = [] as Array<Awaited<ReturnType<typeof sequential>>>;
    const readP50 = await inRounds(async () => {
      const r = await settled(() => sequential(path, entities, READ, 2000));
      readRounds.push(r);
      return r.p50;
    });
    const rawRead = await inRounds(() => rawCedarP50(engine, entities, READ, 2000));
    const wholeRead = await inRounds(async () => (await settled(() => sequential(wholePath, entities, READ, 2000))).p50);
    const repeatedRead = await inRounds(async () => (await settled(() => sequential(cachedPath, entities, READ, 2000))).p50);
    const guardedP50 = await inRounds(async () => (await settled(() => sequential(path, entities, GUARDED, 500))).p50);
    const rawGuarded = await inRounds(() => rawCedarP50(engine, entities, GUARDED, 2000));
    const oneCoreRead = await inRounds(() => throughput(path, READ, 32, 1500));
    const setup = { manifestFile: h.manifestFile, trustedKeysFile: h.trustedKeysFile, approvalsDir: h.approvals.dir };
    const cores = availableParallelism();
    const pools = [];
    for (const n of [1, cores]) pools.push(await pool(setup, h.audit, n));
    // Tracing off (as above): what the decision span costs is the API's no-op span, timed alone.
    const noopSpanUs = await inRounds(async () => {
      const lat = (await timeEach(() => tracer().startSpan('gateway.decide').end(), 20_000)).sort((a, b) => a - b);
      return lat[lat.length >> 1]! * 1000;
    });
    // Tracing on: every decision a recorded span, batched and exported over OTLP/HTTP to a local receiver.
    const receiver = await startOtlpReceiver();
    const tracing = await startTracing({ url: receiver.url, serviceName: 'bench' });
    for (let i = 0; i < 500; i++) await path.decide(READ);
    const tracedRead = await inRounds(async () => (await settled(() => sequential(path, entities, READ, 2000))).p50);
    await tracing.shutdown();
    const spansExported = receiver.spans.length;
    // Metrics off (all of the above): what counting a decision costs is a return at its first line, timed alone.
    const decision = { tenantId: 'acme', agentId: 'spot-bidding', tier: 'read', outcome: 'allowed' };
    const noopCountUs = await inRounds(async () => {
      const lat = (await timeEach(() => countDecision(decision), 20_000)).sort((a, b) => a - b);
      return lat[lat.length >> 1]! * 1000;
    });
    // Metrics on: every decision counted, exported every second over OTLP/HTTP to the local receiver.
    const metrics = await startMetrics({ url: receiver.metricsUrl, serviceName: 'bench', intervalMs: 1000 });
    for (let i = 0; i < 500; i++) await path.decide(READ);
    const meteredRead = await inRounds(async () => (await settled(() => sequential(path, entities, READ, 2000))).p50);
    // Both on, as a process with OTEL_EXPORTER_OTLP_ENDPOINT set runs.
    const both = await startTracing({ url: receiver.url, serviceName: 'bench' });
    for (let i = 0; i < 500; i++) await path.decide(READ);
    const bothRead = await inRounds(async () => (await settled(() => sequential(path, entities, READ, 2000))).p50);
    await both.shutdown();
    await metrics.shutdown();
    await receiver.close();
    const counted = receiver.latest('charter.gateway.decisions').reduce((n, p) => n + p.value, 0);
    emit('gateway-decision', {
      policies: Object.keys(verified.manifest.policies).length,
      readDecisionP50Ms: figure(readP50, {
        unit: 'ms',
        lowerIsBetter: true,
        aim: 0.1,
        limit: { what: 'raw cedar-wasm statefulIsAuthorized on the whole request (schema-validated, every policy)', sampled: rawRead },
      }),
      wholeRequestReadDecisionP50Ms: figure(wholeRead, {
        unit: 'ms',
        lowerIsBetter: true,
        limit: { what: 'raw cedar-wasm call on the same (whole) request', sampled: rawRead },
      }),
      repeatedReadDecisionP50Ms: figure(repeatedRead, {
        unit: 'ms',
        lowerIsBetter: true,
        aim: 0.01,
        limit: { what: 'raw cedar-wasm call on the same request (what the cache saves)', sampled: rawRead },
      }),
      readCall: {
        ...readRounds[readRounds.length - 1]!,
        note: 'list_eligible_suppliers (read), last round: audit append acknowledged on acceptance',
      },
      guardedDecisionP50Ms: figure(guardedP50, {
        unit: 'ms',
        lowerIsBetter: true,
        limit: { what: 'raw cedar-wasm call on the same request (the WAL fdatasync comes on top)', sampled: rawGuarded },
      }),
      tracing: {
        offReadDecisionP50Ms: readP50.median,
        // The spread of the tracing-off read decision over rounds: the bench's noise.
        offNoiseMs: round3(readP50.max - readP50.min),
        noopSpanP50Us: figure(noopSpanUs, { unit: 'µs', lowerIsBetter: true }),
        onReadDecisionP50Ms: figure(tracedRead, {
          unit: 'ms',
          lowerIsBetter: true,
          limit: { what: 'the same read decision with tracing off (ratio: the cost of tracing on)', sampled: readP50 },
        }),
        // The batch processor's queue (2,048 spans) drops what a closed loop makes faster than it exports.
        spansExported,
      },
      metrics: {
        noopCountP50Us: figure(noopCountUs, { unit: 'µs', lowerIsBetter: true }),
        onReadDecisionP50Ms: figure(meteredRead, {
          unit: 'ms',
          lowerIsBetter: true,
          limit: { what: 'the same read decision with metrics and tracing off (ratio: the cost of metrics on)', sampled: readP50 },
        }),
        withTracingOnReadDecisionP50Ms: figure(bothRead, {
          unit: 'ms',
          lowerIsBetter: true,
          limit: { what: 'the same read decision with metrics and tracing off (ratio: the cost of both on)', sampled: readP50 },
        }),
        // Cumulative: every decision made while metrics were on is in the last export (none dropped).
        decisionsCounted: counted,
      },
      oneCoreReadDecisionsPerSecond: figure(oneCoreRead, { unit: '1/s', lowerIsBetter: false, aim: 2000 }),
      workerPool: { call: 'submit_bid', cores, runs: pools },
      auditRecords: h.audit.size,
    });
  } finally {
    await h.close();
  }
}

if (isMainThread) await main();
else await workerMain(workerData as WorkerSetup);
