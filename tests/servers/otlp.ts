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

export interface OtlpReceiver {
  /** The traces endpoint: `http://127.0.0.1:PORT/v1/traces`. */
  url: string;
  spans: ReceivedSpan[];
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

const value = (v: AnyValue) => v.stringValue ?? v.boolValue ?? v.doubleValue ?? Number(v.intValue);
const flat = (kvs: KeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, value(kv.value)]));

/**
 * A local OTLP/HTTP traces receiver: `POST /v1/traces` with an ExportTraceServiceRequest in the
 * OTLP JSON encoding (ids in hex), as the OpenTelemetry JS exporter sends it; a protobuf body is
 * refused with 415, so a test sees a changed encoding rather than missing spans.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return res.writeHead(404).end();
      if (!String(req.headers['content-type']).startsWith('application/json')) return res.writeHead(415).end();
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
  return { url: `${listening.url}/v1/traces`, spans, close: listening.close };
}
