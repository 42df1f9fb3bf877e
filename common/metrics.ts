import { metrics, type Attributes, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { BREAKERS, type BreakerState } from './breakers.js';
import { ATTR } from './telemetry.js';

/**
 * OpenTelemetry metrics of the platform: gateway decisions by outcome and tier, admission
 * refusals, breaker states, the age of the oldest pending approval, and the audit seal lag.
 * Off by default: until `startMetrics` registers a meter provider the recording functions
 * return at their first line (no instrument, no attribute object). On when an OTLP endpoint is
 * configured (the same settings as traces, or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT): points are
 * read every OTEL_METRIC_EXPORT_INTERVAL ms (default 60 s) and at shutdown, and exported over
 * OTLP/HTTP (JSON), cumulative.
 */

/** The metric names (README, Operations). */
export const METRIC = {
  decisions: 'charter.gateway.decisions',
  admissionRefusals: 'charter.admission.refusals',
  breakerState: 'charter.breaker.state',
  approvalsPending: 'charter.approvals.pending',
  approvalOldestAge: 'charter.approvals.oldest_pending_age',
  sealLag: 'charter.audit.seal_lag',
} as const;

/** Attribute names the metrics use beside the span attributes (ATTR). */
export const METRIC_ATTR = {
  breaker: 'charter.breaker.name',
  breakerKey: 'charter.breaker.key',
} as const;

/** The value of `charter.breaker.state`: 0 closed, 1 half-open (one probe passes), 2 open. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Seal lag buckets in seconds: a seal runs every few hundred ms by default; a stuck sink shows in the minutes. */
const SEAL_LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** One tenant's approval queue: requests pending and when the oldest was opened. */
export interface ApprovalQueue {
  tenantId: string;
  pending: number;
  oldestRequestedAtMs: number;
}

interface Instruments {
  decisions: Counter;
  admissionRefusals: Counter;
  sealLag: Histogram;
}

/** Set while a meter provider is registered; the recording functions do nothing while it is not. */
let instruments: Instruments | undefined;
/** Approval stores observed (by whoever owns one); read only when metrics are collected. */
const approvalSources = new Set<() => ApprovalQueue[]>();

export function metricsEnabled(): boolean {
  return instruments !== undefined;
}

/** Counts one gateway decision (`charter.gateway.decisions`). */
export function countDecision(d: { tenantId: string; agentId: string; tier: string | null | undefined; outcome: string }): void {
  if (!instruments) return;
  instruments.decisions.add(1, {
    [ATTR.tenant]: d.tenantId,
    [ATTR.agent]: d.agentId,
    [ATTR.tier]: d.tier ?? '',
    [ATTR.outcome]: d.outcome,
  });
}

/** Counts one refused admission (the 429 of node 1, `charter.admission.refusals`). */
export function countAdmissionRefusal(tenantId: string): void {
  instruments?.admissionRefusals.add(1, { [ATTR.tenant]: tenantId });
}

/**
 * Records, for each record a checkpoint just sealed, the seconds from its append to the signed
 * checkpoint (records recovered from the WAL after a restart have no append time and are left out).
 */
export function recordSealLag(sealed: Iterable<{ acceptedAtMs?: number }>, sealedAtMs: number): void {
  if (!instruments) return;
  for (const r of sealed) if (r.acceptedAtMs !== undefined) instruments.sealLag.record(Math.max(0, sealedAtMs - r.acceptedAtMs) / 1000);
}

/** Observes an approval queue while metrics are on; returns the function that stops observing it. */
export function observeApprovalQueue(source: () => ApprovalQueue[]): () => void {
  approvalSources.add(source);
  return () => approvalSources.delete(source);
}

/** The OTLP metrics endpoint the environment configures, if any (the traces' settings, or the metrics' own). */
export function otlpMetricsEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_METRICS_EXPORTER === 'none') return undefined;
  if (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) return env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/metrics`;
  return undefined;
}

export interface Metrics {
  /** Collects and exports once more, then stops. */
  shutdown(): Promise<void>;
}

function makeInstruments(meter: Meter): Instruments {
  meter
    .createObservableGauge(METRIC.breakerState, {
      description: 'State of each breaker key the process has called through: 0 closed, 1 half-open, 2 open',
      unit: '{state}',
    })
    .addCallback((result) => {
      for (const s of BREAKERS.states())
        result.observe(BREAKER_STATE_VALUE[s.state], { [METRIC_ATTR.breaker]: s.breaker, [METRIC_ATTR.breakerKey]: s.key });
    });
  const pending = meter.createObservableGauge(METRIC.approvalsPending, { description: 'Approval requests pending', unit: '{request}' });
  const oldest = meter.createObservableGauge(METRIC.approvalOldestAge, {
    description: 'Age of the oldest pending approval request',
    unit: 's',
  });
  meter.addBatchObservableCallback(
    (result) => {
      const now = Date.now();
      for (const source of approvalSources)
        for (const q of source()) {
          const attrs: Attributes = { [ATTR.tenant]: q.tenantId };
          result.observe(pending, q.pending, attrs);
          result.observe(oldest, Math.max(0, now - q.oldestRequestedAtMs) / 1000, attrs);
        }
    },
    [pending, oldest],
  );
  return {
    decisions: meter.createCounter(METRIC.decisions, { description: 'Gateway decisions by outcome and tier', unit: '{decision}' }),
    admissionRefusals: meter.createCounter(METRIC.admissionRefusals, {
      description: 'Negotiations refused admission (HTTP 429)',
      unit: '{refusal}',
    }),
    sealLag: meter.createHistogram(METRIC.sealLag, {
      description: 'Time from an audit record appended to the signed checkpoint that seals it',
      unit: 's',
      advice: { explicitBucketBoundaries: SEAL_LAG_BUCKETS },
    }),
  };
}

/**
 * Registers the meter provider when an OTLP endpoint is configured (`url`, else the
 * environment); otherwise does nothing and returns a no-op. The SDK and exporter are imported
 * only then. `intervalMs`: how often points are exported (OTEL_METRIC_EXPORT_INTERVAL, 60 s).
 */
export async function startMetrics(opts: { url?: string; serviceName?: string; intervalMs?: number } = {}): Promise<Metrics> {
  const url = opts.url ?? otlpMetricsEndpoint();
  if (!url) return { shutdown: async () => undefined };
  const [{ MeterProvider, PeriodicExportingMetricReader }, { resourceFromAttributes }, { OtlpJsonMetricExporter }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/resources'),
    import('./otlp-metrics-exporter.js'),
  ]);
  const interval = opts.intervalMs ?? (Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000);
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'charter' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OtlpJsonMetricExporter(url),
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(interval, 30_000),
      }),
    ],
  });
  metrics.setGlobalMeterProvider(provider);
  instruments = makeInstruments(metrics.getMeter('charter'));
  return {
    async shutdown() {
      instruments = undefined;
      await provider.shutdown();
      metrics.disable();
    },
  };
}
