import { createServer, type IncomingMessage } from 'node:http';
import { listenLoopback } from '../../agents/index.js';

/**
 * A local stand-in for the AgentCore Runtime data plane, speaking its wire protocol to the
 * real SDK: `POST /runtimes/{agentRuntimeArn}/invocations` (the ARN URL-encoded, optional
 * `?qualifier=`), the session id in `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`, the payload
 * as the raw body. Like the service it forwards the body and session to the runtime's
 * container contract (`POST /invocations` on the agent) and streams the answer back; an
 * unknown runtime is a ResourceNotFoundException. Of the request's other headers, only those
 * in the runtime's request-header allowlist (`allowlists`, as deploy configured it) reach the
 * container, as the service documents; none when the runtime has no allowlist.
 */
export interface LocalAgentCore {
  endpoint: string;
  /** Runtime ARN -> base URL of the agent's HTTP server (its /invocations and /ping). */
  routes: Map<string, string>;
  /** Runtime ARN -> its requestHeaderAllowlist (header names, any case). */
  allowlists: Map<string, string[]>;
  /** Invocations received per runtime ARN. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startLocalAgentCore(): Promise<LocalAgentCore> {
  const routes = new Map<string, string>();
  const calls = new Map<string, number>();
  const allowlists = new Map<string, string[]>();
  const http = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const m = /^\/runtimes\/([^/]+)\/invocations$/.exec(url.pathname);
      if (req.method !== 'POST' || !m) {
        res
          .writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' })
          .end('{"message":"unknown operation"}');
        return;
      }
      const arn = decodeURIComponent(m[1]!);
      const target = routes.get(arn);
      if (!target) {
        res
          .writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' })
          .end(JSON.stringify({ message: `runtime ${arn} not found` }));
        return;
      }
      calls.set(arn, (calls.get(arn) ?? 0) + 1);
      const session = String(req.headers[SESSION] ?? '');
      const allowed = new Set((allowlists.get(arn) ?? []).map((h) => h.toLowerCase()));
      const passed = Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => allowed.has(e[0]) && typeof e[1] === 'string'),
      );
      const upstream = await fetch(`${target}/invocations`, {
        method: 'POST',
        headers: { ...passed, 'content-type': String(req.headers['content-type'] ?? 'application/json'), [SESSION]: session },
        body: await body(req),
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      res
        .writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', [SESSION]: session })
        .end(answer);
    })().catch((err: unknown) => {
      if (!res.headersSent)
        res
          .writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException' })
          .end(JSON.stringify({ message: String(err) }));
    });
  });
  const listening = await listenLoopback(http);
  return { endpoint: listening.url, routes, allowlists, calls, close: listening.close };
}
