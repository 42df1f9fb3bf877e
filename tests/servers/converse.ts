// The loopback JSON server below is shared with openai.ts (both speak JSON over HTTP).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RunningJsonServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server for protocol tests: parses JSON request bodies, records every request
 * and answers with whatever the route returns (a non-JSON body is answered as a 400).
 * `http2`: cleartext HTTP/2 (prior knowledge), which the Bedrock Runtime client speaks by default.
 */
export async function startJsonServer(
  route: (req: RecordedRequest, closing: AbortSignal) => Reply | Promise<Reply>,
  opts: { http2?: boolean } = {},
): Promise<RunningJsonServer> {
  const requests: RecordedRequest[] = [];
  // Aborted on close, so a route that stalls on purpose (a hung model) lets the server stop.
  const closing = new AbortController();
  const handle = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const send = (status: number, headers: Record<string, string>, body: string) => {
          // Both response kinds share this call shape; the union of their overloads does not type-check.
          (res as ServerResponse).writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(body);
        };
        let body: unknown;
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
        } catch {
          send(400, {}, JSON.stringify({ message: 'body is not JSON' }));
          return;
        }
        const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers as IncomingHttpHeaders, body };
        requests.push(recorded);
        const reply = await route(recorded, closing.signal);
        if (closing.signal.aborted) return;
        send(reply.status, reply.headers ?? {}, typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
      })();
    });
  };
  const server = opts.http2 ? createH2Server(handle) : createServer(handle);
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s: { destroy(): void }) => sessions.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        for (const s of sessions) s.destroy();
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface ConverseCall {
  modelId: string;
  system: string;
  userText: string;
  request: RecordedRequest;
}

export type ConverseScript = (
  call: ConverseCall,
) => { text: string } | { throttle: true } | { error: number; type: string; message: string } | { hang: true };

/** A model that never answers: waits until the server closes. */
export function hang(closing: AbortSignal): Promise<Reply> {
  return new Promise((resolve) =>
    closing.addEventListener('abort', () => resolve({ status: 503, body: { message: 'server closed' } }), { once: true }),
  );
}

export function converseReply(text: string, inputTokens = 120, outputTokens = 30): Reply {
  return {
    status: 200,
    body: {
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason: 'end_turn',
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      metrics: { latencyMs: 5 },
    },
  };
}

function errorReply(status: number, type: string, message: string): Reply {
  return { status, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` }, body: { message } };
}

/** Why a request does not look like a Converse call from the SDK (empty when it does). */
export function converseShapeProblems(req: RecordedRequest): string[] {
  const problems: string[] = [];
  const body = req.body as {
    messages?: Array<{ role?: string; content?: Array<{ text?: string }> }>;
    system?: Array<{ text?: string }>;
    inferenceConfig?: Record<string, unknown>;
  } | null;
  if (req.method !== 'POST') problems.push(`method ${req.method}`);
  if (!/^\/model\/[^/]+\/converse$/.test(req.path)) problems.push(`path ${req.path}`);
  if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) problems.push('no SigV4 authorization');
  if (!Array.isArray(body?.messages) || body.messages.length === 0) problems.push('no messages');
  else if (
    body.messages.some(
      (m) =>
        (m.role !== 'user' && m.role !== 'assistant') || !Array.isArray(m.content) || m.content.some((c) => typeof c.text !== 'string'),
    )
  )
    problems.push('malformed messages');
  if (body?.system !== undefined && (!Array.isArray(body.system) || body.system.some((s) => typeof s.text !== 'string')))
    problems.push('malformed system');
  if (body?.inferenceConfig !== undefined && typeof body.inferenceConfig !== 'object') problems.push('malformed inferenceConfig');
  return problems;
}

export async function startConverseServer(script: ConverseScript): Promise<RunningJsonServer> {
  return startJsonServer(
    (req, closing) => {
      const problems = converseShapeProblems(req);
      if (problems.length) return errorReply(400, 'ValidationException', problems.join('; '));
      const modelId = decodeURIComponent(req.path.split('/')[2]!);
      const body = req.body as { messages: Array<{ content: Array<{ text: string }> }>; system?: Array<{ text: string }> };
      const call: ConverseCall = {
        modelId,
        system: (body.system ?? []).map((s) => s.text).join('\n'),
        userText: body.messages.map((m) => m.content.map((c) => c.text).join('')).join('\n'),
        request: req,
      };
      const out = script(call);
      if ('hang' in out) return hang(closing);
      if ('throttle' in out) return errorReply(429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
      if ('error' in out) return errorReply(out.error, out.type, out.message);
      return converseReply(out.text);
    },
    { http2: true },
  );
}
