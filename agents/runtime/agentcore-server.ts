import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { ATTR, CharterError, contextFrom, errorMessage, inSpan, listenLoopback, type Listening } from '../../common/index.js';
import { HttpRefusal } from '../../gateway/index.js';
import type { AgentOutput } from '../agent.js';
import { ToolDeniedError } from '../toolbox.js';
import { SpanKind } from '@opentelemetry/api';
import { refusalAnswer } from './invocation.js';

export const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id';
/**
 * The platform-issued identity token of one invocation (a JWT the gateway trusts), in a custom
 * header of the runtime contract rather than in the tenant's payload.
 */
export const IDENTITY_HEADER = 'x-amzn-bedrock-agentcore-runtime-custom-charter-identity';
/** The signed invocation envelope (see invocation-envelope.ts), another custom header of the contract. */
export const ENVELOPE_HEADER = 'x-amzn-bedrock-agentcore-runtime-custom-charter-envelope';

/** What an invocation carries: the tenant, the agent's input and the correlation ids. */
export const InvocationPayload = z.strictObject({
  tenantId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  input: z.unknown(),
  negotiationId: z.string().min(1).optional(),
  traceId: z.string().min(1).optional(),
});
export type InvocationPayload = z.infer<typeof InvocationPayload>;

/** What an invocation carries besides its payload (request headers of the runtime contract). */
export interface InvocationRequest {
  identityToken: string | undefined;
  /** The signed invocation envelope (INVOCATION_ENVELOPE.header). */
  envelope: string | undefined;
}

/** Runs one invocation; `auth` is what the server's `authorize` returned (by default the request). */
export type InvocationHandler<A = InvocationRequest> = (payload: InvocationPayload, session: SessionState, auth: A) => Promise<AgentOutput>;

export interface RuntimeServerOptions<A> {
  port?: number;
  host?: string;
  /**
   * Checks an invocation before it touches session state (e.g. verifies its identity token);
   * refuses with HttpRefusal. Its result is handed to the handler.
   */
  authorize?: (payload: InvocationPayload, request: InvocationRequest) => Promise<A>;
}

/** Per-session state (AgentCore gives each session its own microVM; locally, a map entry). */
export interface SessionState {
  id: string;
  tenantId: string;
  invocations: number;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The AgentCore Runtime HTTP contract for one agent: `GET /ping` answers `Healthy`, or
 * `HealthyBusy` while an invocation runs; `POST /invocations` takes a JSON payload and answers
 * JSON. A session (the session-id header) is bound to the tenant of its first invocation: an
 * invocation for another tenant in the same session is refused (409), so session state never
 * crosses tenants. `authorize` and the handler refuse with HttpRefusal (e.g. 401 for a bad
 * identity token).
 */
export async function serveAgentCoreRuntime<A = InvocationRequest>(
  handler: InvocationHandler<A>,
  opts: RuntimeServerOptions<A> = {},
): Promise<Listening> {
  const authorize = opts.authorize ?? (async (_payload, request) => request as A);
  const sessions = new Map<string, SessionState>();
  let busy = 0;
  let lastChange = Math.floor(Date.now() / 1000);
  const setBusy = (delta: number) => {
    const before = busy > 0;
    busy += delta;
    if (before !== busy > 0) lastChange = Math.floor(Date.now() / 1000);
  };
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/ping')
      return send(res, 200, { status: busy > 0 ? 'HealthyBusy' : 'Healthy', time_of_last_update: lastChange });
    if (req.method !== 'POST' || path !== '/invocations') return send(res, 404, { error: 'GET /ping or POST /invocations' });
    const sessionId = String(req.headers[SESSION_HEADER] ?? '');
    setBusy(1);
    void (async () => {
      try {
        let raw: unknown;
        try {
          raw = JSON.parse(await readBody(req));
        } catch {
          return send(res, 400, { error: 'the payload is not JSON' });
        }
        const parsed = InvocationPayload.safeParse(raw);
        if (!parsed.success)
          return send(res, 400, { error: `payload.${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}` });
        const header = (name: string) => {
          const value = req.headers[name];
          return typeof value === 'string' ? value : undefined;
        };
        const auth = await authorize(parsed.data, { identityToken: header(IDENTITY_HEADER), envelope: header(ENVELOPE_HEADER) });
        const session = sessions.get(sessionId) ?? { id: sessionId, tenantId: parsed.data.tenantId, invocations: 0 };
        if (session.tenantId !== parsed.data.tenantId)
          return send(res, 409, { error: `session ${sessionId} belongs to tenant ${session.tenantId}` });
        if (sessionId) sessions.set(sessionId, session);
        session.invocations++;
        const sessionHeaders: Record<string, string> = sessionId ? { [SESSION_HEADER]: sessionId } : {};
        try {
          // The invocation as a span of the caller's trace (the W3C traceparent header).
          const answer = await inSpan(
            'agent.run',
            { [ATTR.tenant]: parsed.data.tenantId, [ATTR.negotiation]: parsed.data.negotiationId ?? '' },
            () => handler(parsed.data, session, auth),
            { parent: contextFrom(req.headers), kind: SpanKind.SERVER },
          );
          send(res, 200, answer, sessionHeaders);
        } catch (err) {
          // A refused tool call is a governance outcome the orchestrator acts on (it routes the
          // negotiation to a human): the agent's answer, so that it survives AgentCore's service.
          if (!(err instanceof ToolDeniedError)) throw err;
          send(res, 200, refusalAnswer(err), sessionHeaders);
        }
      } catch (err) {
        const status = err instanceof HttpRefusal ? err.status : err instanceof CharterError && err.exitCode === 2 ? 400 : 500;
        send(res, status, { error: errorMessage(err) });
      } finally {
        setBusy(-1);
      }
    })();
  });
  return listenLoopback(http, opts.port ?? 0, opts.host ?? '127.0.0.1');
}
