import { createServer } from 'node:http';
import { listenLoopback } from '../../common/index.js';

/** One span as an OTLP/HTTP JSON export carries it, with its attributes flattened to strings. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  service: string;
}

/** One metric point as an OTLP/HTTP JSON export carries it (a sum or gauge value, or a histogram's count and sum). */
export interface ReceivedPoint {
  name: string;
  unit: string;
  type: 'sum' | 'gauge' | 'histogram';
  attributes: Record<string, string | number | boolean>;
  /** A sum's or gauge's value; a histogram's sum. */
  value: number;
  /** A histogram's count. */
  count: number;
  service: string;
}

export interface OtlpReceiver {
  /** The traces endpoint: `http://127.0.0.1:PORT/v1/traces`. */
  url: string;
  /** The metrics endpoint: `http://127.0.0.1:PORT/v1/metrics`. */
  metricsUrl: string;
  /** What OTEL_EXPORTER_OTLP_ENDPOINT names: `http://127.0.0.1:PORT`. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Every point of every metrics export, in the order received. */
  points: ReceivedPoint[];
  /** The newest point of each series of a metric (points are cumulative: the newest is the total). */
  latest(name: string): ReceivedPoint[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface ExportTraceServiceRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: KeyValue[] }>;
    }>;
  }>;
}

interface NumberPoint {
  attributes?: KeyValue[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
}
interface ExportMetricsServiceRequest {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{
      metrics?: Array<{
        name: string;
        unit?: string;
        sum?: { dataPoints?: NumberPoint[] };
        gauge?: { dataPoints?: NumberPoint[] };
        histogram?: { dataPoints?: NumberPoint[] };
      }>;
    }>;
  }>;
}

const value = (v: AnyValue) => v.stringValue ?? v.boolValue ?? v.doubleValue ?? Number(v.intValue);
const flat = (kvs: KeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, value(kv.value)]));

/**
 * A local OTLP/HTTP receiver: `POST /v1/traces` with an ExportTraceServiceRequest and
 * `POST /v1/metrics` with an ExportMetricsServiceRequest, in the OTLP JSON encoding (ids in hex),
 * as the OpenTelemetry JS exporters send them; a protobuf body is refused with 415, so a test
 * sees a changed encoding rather than missing spans or points.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const points: ReceivedPoint[] = [];
  const receiveMetrics = (body: ExportMetricsServiceRequest) => {
    for (const rm of body.resourceMetrics ?? []) {
      const service = String(flat(rm.resource?.attributes)['service.name'] ?? '');
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? [])
          for (const type of ['sum', 'gauge', 'histogram'] as const)
            for (const p of m[type]?.dataPoints ?? [])
              points.push({
                name: m.name,
                unit: m.unit ?? '',
                type,
                attributes: flat(p.attributes),
                value: type === 'histogram' ? Number(p.sum ?? 0) : Number(p.asInt ?? p.asDouble),
                count: Number(p.count ?? 0),
                service,
              });
    }
  };
  const latest = (name: string) => {
    const series = new Map<string, ReceivedPoint>();
    for (const p of points) if (p.name === name) series.set(JSON.stringify([p.service, Object.entries(p.attributes).sort()]), p);
    return [...series.values()];
  };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || (req.url !== '/v1/traces' && req.url !== '/v1/metrics')) return res.writeHead(404).end();
      if (!String(req.headers['content-type']).startsWith('application/json')) return res.writeHead(415).end();
      if (req.url === '/v1/metrics') {
        receiveMetrics(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportMetricsServiceRequest);
        return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportTraceServiceRequest;
      for (const rs of body.resourceSpans ?? []) {
        const service = String(flat(rs.resource?.attributes)['service.name'] ?? '');
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: flat(s.attributes),
              service,
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const listening = await listenLoopback(http, 0, '127.0.0.1');
  return {
    url: `${listening.url}/v1/traces`,
    metricsUrl: `${listening.url}/v1/metrics`,
    endpoint: listening.url,
    spans,
    points,
    latest,
    close: listening.close,
  };
}
