import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAuditLog, queryAudit } from '../audit/index.js';
import { negotiationTraceId, startTracing } from '../common/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition } from '../orchestrator/index.js';
import { otlpHome } from './otlp-home.js';
import type { ReceivedSpan } from './servers/otlp.js';

/**
 * One negotiation with the agents as their own processes (`charter agents serve` of the built
 * CLI): the orchestrator calls them over HTTP with a W3C traceparent header, they call the
 * gateway over MCP (HTTP) with the traceparent in `_meta`, and every process exports its spans
 * to the same local OTLP receiver, configured only by the environment the agent processes inherit.
 */
const t = otlpHome('charter-tracing-processes-');
const { dir } = t;
const OTEL_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_BSP_SCHEDULE_DELAY'] as const;
const savedEnv = Object.fromEntries(OTEL_ENV.map((k) => [k, process.env[k]]));
afterAll(() => {
  for (const k of OTEL_ENV)
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
});

const PARENT = 'charter-test';
const AGENT_PROCESS = 'charter agents serve';

describe('OpenTelemetry traces across processes', () => {
  it('the spans of one negotiation, exported by the orchestrator and every agent process, form one trace with the tenant on every span', async () => {
    // The agent processes inherit the endpoint (their CLI starts tracing from it) and export every 100 ms.
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: t.receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });
    const tracing = await startTracing({ url: t.receiver.url, serviceName: PARENT });
    const world = referenceWorld({ tenants: ['acme'] });
    const suppliers = await world.network.serve();
    const auditDir = join(dir, 'audit');
    const audit = await openAuditLog({ dir: auditDir, signer: t.home.auditSigner, origin: 'test/tracing-processes' });
    let result;
    try {
      const stack = await openProcurementStack({
        ...t.home.stackOptions(join(dir, 'run'), world, suppliers.url, audit),
        supplierClient: { timeoutMs: 60_000, failureThreshold: 1_000, openMs: 1_000 },
        agentProcesses: { home: dir },
      });
      try {
        result = await stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0));
      } finally {
        // SIGTERM: each agent process ends its command, which exports what its tracer holds.
        await stack.close();
      }
    } finally {
      await suppliers.close();
      await tracing.shutdown();
    }
    expect(result.status, result.reason ?? '').toBe('AWARDED');
    const traceId = negotiationTraceId('acme', result.negotiationId);
    const spans = t.receiver.spans;
    const mine = spans.filter((s) => s.traceId === traceId);
    // Nothing outside the negotiation's trace: a span that lost its parent across a process would start a trace of its own.
    expect(
      spans.filter((s) => s.traceId !== traceId).map((s) => `${s.service}: ${s.name}`),
      'spans outside the trace',
    ).toEqual([]);
    expect(mine.every((s) => s.attributes['tenant.id'] === 'acme')).toBe(true);
    expect(new Set(mine.map((s) => s.service))).toEqual(new Set([PARENT, AGENT_PROCESS]));

    // One tree: every span's parent is a span of the trace, from whichever process, except the run's.
    const byId = new Map(mine.map((s) => [s.spanId, s]));
    expect(mine.filter((s) => !byId.has(s.parentSpanId)).map((s) => s.name)).toEqual(['negotiation.run']);

    // Each agent ran in its process under the orchestrator's invocation span.
    const agents = ['kraljic-classifier', result.route!.agent, 'bid-evaluation', 'award-communications'];
    const runs = mine.filter((s) => s.name === 'agent.run');
    expect(runs).toHaveLength(agents.length);
    for (const run of runs) {
      expect(run.service).toBe(AGENT_PROCESS);
      expect(byId.get(run.parentSpanId)).toMatchObject({ service: PARENT });
      expect(byId.get(run.parentSpanId)!.name).toMatch(/^agent\.invoke/);
    }
    expect(new Set(runs.map((r) => byId.get(r.parentSpanId)!.attributes['charter.agent']))).toEqual(new Set(agents));

    // orchestrator -> agent process -> gateway (back in the orchestrator's process, over MCP) -> decision, tool, supplier fan-out.
    const chainOf = (s: ReceivedSpan | undefined) => {
      const chain: string[] = [];
      for (; s; s = byId.get(s.parentSpanId)) chain.push(`${s.service === PARENT ? 'parent' : 'agent'}:${s.name.split(' ')[0]}`);
      return chain;
    };
    const decide = mine.find((s) => s.name === 'gateway.decide' && s.attributes['charter.tool'] === 'solicit_spot_bids');
    expect(chainOf(decide)).toEqual([
      'parent:gateway.decide',
      'parent:gateway.tool_call',
      'agent:agent.run',
      'parent:agent.invoke',
      'parent:negotiation.node',
      'parent:negotiation.run',
    ]);
    const quote = mine.find((s) => s.name === 'supplier.quote');
    expect(chainOf(quote).slice(0, 4)).toEqual(['parent:supplier.quote', 'parent:tool', 'parent:gateway.tool_call', 'agent:agent.run']);
    // Every tool call the gateway served came from an agent process, under one of its spans.
    const toolCalls = mine.filter((s) => s.name === 'gateway.tool_call');
    expect(toolCalls.length).toBeGreaterThan(agents.length);
    expect(toolCalls.every((s) => byId.get(s.parentSpanId)?.service === AGENT_PROCESS)).toBe(true);

    // The audit records of the negotiation are on the same trace.
    await audit.flush();
    const records = await queryAudit({ dir: auditDir, tenant: 'acme', kind: 'decision' });
    await audit.close();
    expect(records.length).toBe(mine.filter((s) => s.name === 'gateway.decide').length);
    expect(records.every((r) => r.traceId === traceId)).toBe(true);
  }, 240_000);
});
