import { createHash } from 'node:crypto';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/**
 * OpenTelemetry traces across orchestrator -> agent runtime -> gateway -> tool. Off by default:
 * until `startTracing` registers a provider, the API's tracer is its no-op (spans are not
 * recorded, nothing is exported, no traceparent is written), so the hot paths pay a function call.
 * On when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): spans are batched and exported over OTLP/HTTP (JSON).
 */

/** Attribute names every span of a negotiation carries (those it knows). */
export const ATTR = {
  tenant: 'tenant.id',
  agent: 'charter.agent',
  negotiation: 'charter.negotiation.id',
  manifestDigest: 'charter.manifest.digest',
  outcome: 'charter.decision.outcome',
  tier: 'charter.tool.tier',
  tool: 'charter.tool',
} as const;

export const tracer = (): Tracer => trace.getTracer('charter');

/**
 * The trace id of a negotiation: the first 16 bytes of SHA-256 over `tenant#negotiation`. Every
 * run and resume of a negotiation continues the same trace, and the audit records of its
 * decisions carry the same id, with tracing on or off, so an auditor goes from a record to its trace.
 */
export function negotiationTraceId(tenantId: string, negotiationId: string): string {
  return createHash('sha256').update(`${tenantId}#${negotiationId}`).digest('hex').slice(0, 32);
}

/** A context whose parent is the negotiation's trace (a remote parent with the derived trace id). */
export function negotiationContext(tenantId: string, negotiationId: string): Context {
  const traceId = negotiationTraceId(tenantId, negotiationId);
  return trace.setSpanContext(context.active(), { traceId, spanId: traceId.slice(0, 16), traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/**
 * Runs `fn` in a new span (ended when it settles; an error is recorded and rethrown). With
 * tracing off the span is the API's non-recording span: no allocation of attributes is kept.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  opts: { parent?: Context; kind?: SpanKind } = {},
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { attributes, kind: opts.kind ?? SpanKind.INTERNAL },
    opts.parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The W3C trace context of the active span as carrier fields (`traceparent`, `tracestate`); empty when tracing is off. */
export function traceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The context a carrier (HTTP headers, MCP `_meta`) names, or the active one when it names none. */
export function contextFrom(carrier: Record<string, unknown> | undefined): Context {
  if (!carrier || typeof carrier.traceparent !== 'string') return context.active();
  return propagation.extract(context.active(), carrier, {
    keys: (c) => Object.keys(c),
    get: (c, k) => (typeof c[k] === 'string' ? c[k] : undefined),
  });
}

/** The trace id of the active span, when there is a valid one (tracing on, or a propagated parent). */
export function activeTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** The OTLP traces endpoint the environment configures, if any. */
export function otlpTracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

export interface Tracing {
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Registers the tracer provider, W3C propagator and async context manager when an OTLP endpoint
 * is configured (`url`, else the environment); otherwise does nothing and returns a no-op. The
 * SDK is imported only then, so a process with tracing off never loads it.
 */
export async function startTracing(opts: { url?: string; serviceName?: string } = {}): Promise<Tracing> {
  const url = opts.url ?? otlpTracesEndpoint();
  if (!url) return { shutdown: async () => undefined };
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { W3CTraceContextPropagator },
    hooks,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'charter' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
