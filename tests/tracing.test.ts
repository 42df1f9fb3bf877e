import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditLog, queryAudit } from '../audit/index.js';
import { negotiationTraceId, startTracing, tracer } from '../common/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition } from '../orchestrator/index.js';
import { otlpHome } from './otlp-home.js';

const t = otlpHome('charter-tracing-');
const { dir } = t;

describe('OpenTelemetry traces', () => {
  it('is off by default: the tracer is the API no-op and nothing is recorded', async () => {
    const off = await startTracing({ url: undefined });
    const span = tracer().startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
    await off.shutdown();
  });

  it('exports the spans of one negotiation over OTLP as one trace, the tenant on every span, the audit records on the same trace id', async () => {
    const tracing = await startTracing({ url: t.receiver.url, serviceName: 'charter-test' });
    const world = referenceWorld({ tenants: ['acme', 'globex'] });
    const suppliers = await world.network.serve();
    const audit = await openAuditLog({ dir: join(dir, 'audit'), signer: t.home.auditSigner, origin: 'test/tracing' });
    // Two shared cores: supplier timeouts set for load, not latency.
    const stack = await openProcurementStack({
      ...t.home.stackOptions(join(dir, 'run'), world, suppliers.url, audit),
      supplierClient: { timeoutMs: 60_000, failureThreshold: 1_000, openMs: 1_000 },
    });
    let acme, globex;
    try {
      [acme, globex] = await Promise.all([
        stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0)),
        stack.orchestrator.negotiate('globex', sampleRequisition('globex', 0)),
      ]);
    } finally {
      await stack.close();
      await suppliers.close();
      await tracing.shutdown();
    }
    expect(acme.status, acme.reason ?? '').toBe('AWARDED');
    const traceId = negotiationTraceId('acme', acme.negotiationId);
    const mine = t.receiver.spans.filter((s) => s.traceId === traceId);
    const theirs = t.receiver.spans.filter((s) => s.traceId === negotiationTraceId('globex', globex.negotiationId));
    // Two negotiations ran at once: each is one trace, and no span crosses over.
    expect(mine.length + theirs.length).toBe(t.receiver.spans.length);
    expect(mine.every((s) => s.attributes['tenant.id'] === 'acme')).toBe(true);
    expect(theirs.every((s) => s.attributes['tenant.id'] === 'globex')).toBe(true);
    expect(mine.every((s) => s.service === 'charter-test')).toBe(true);
    const names = new Set(mine.map((s) => s.name.split(' ')[0]));
    expect([...names].sort()).toEqual([
      'agent.invoke',
      'gateway.decide',
      'gateway.tool_call',
      'negotiation.node',
      'negotiation.run',
      'supplier.quote',
      'tool',
    ]);
    // One tree: every span's parent is a span of the trace, except the run's (the negotiation's remote root).
    const ids = new Set(mine.map((s) => s.spanId));
    expect(mine.filter((s) => !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual(['negotiation.run']);
    // The chain orchestrator -> agent -> gateway -> decision, and the tool under the gateway.
    const byId = new Map(mine.map((s) => [s.spanId, s]));
    const decide = mine.find((s) => s.name === 'gateway.decide' && s.attributes['charter.tool'] === 'solicit_spot_bids')!;
    const chain: string[] = [];
    for (let s = decide; s; s = byId.get(s.parentSpanId)!) chain.push(s.name.split(' ')[0]!);
    expect(chain).toEqual(['gateway.decide', 'gateway.tool_call', 'agent.invoke', 'negotiation.node', 'negotiation.run']);
    expect(decide.attributes).toMatchObject({
      'charter.agent': 'spot-bidding',
      'charter.decision.outcome': 'guarded',
      'charter.tool.tier': 'write-low',
      'charter.negotiation.id': acme.negotiationId,
      'charter.manifest.digest': t.home.manifests.find((m) => m.manifest.agent.name === 'spot-bidding')!.digest,
    });
    expect(
      mine
        .filter((s) => s.name.startsWith('agent.invoke'))
        .every((s) => String(s.attributes['charter.manifest.digest']).startsWith('sha256:')),
    ).toBe(true);
    // The audit records of the negotiation's decisions carry the OpenTelemetry trace id.
    await audit.flush();
    const records = await queryAudit({ dir: join(dir, 'audit'), tenant: 'acme', kind: 'decision' });
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.traceId === traceId)).toBe(true);
    const decided = new Set(mine.filter((s) => s.name === 'gateway.decide').map((s) => s.attributes['charter.audit.record_id']));
    expect(records.every((r) => decided.has(r.id))).toBe(true);
    await audit.close();
  }, 180_000);
});
