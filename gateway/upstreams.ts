import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BREAKERS, InputError, traceCarrier, type UpstreamGuard, type UpstreamGuardOptions } from '../common/index.js';
import { LazyMcpClient } from './mcp-http-client.js';

export const DEFAULT_UPSTREAM_GUARD: UpstreamGuardOptions = { maxConcurrent: 16, timeoutMs: 10_000, failureThreshold: 5, openMs: 30_000 };

/** Time the gateway may add around an upstream call: the decision, approval lookup and audit append. */
const GATEWAY_OVERHEAD_MS = 5_000;

/** Socket-level codes of a request that never got an answer (the connection broke or was refused). */
const CONNECTION_FAILURES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Whether undici's "fetch failed" names a broken or refused connection as its cause. */
export function isConnectionFailure(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' && CONNECTION_FAILURES.has(cause.code);
}

/**
 * One MCP tool call under a guard. The guard owns the deadline; the SDK's own request timer
 * (60 s unless told otherwise) is set past it, so it can never cut a longer configured deadline
 * short and the caller sees the guard's reason. An `idempotent` call (a read-tier tool) whose
 * connection broke is sent once more, within the same deadline: a kept-alive connection the
 * server closed just as the request went out is a routine event, not an upstream failure.
 */
export async function guardedToolCall(
  guard: UpstreamGuard,
  key: string,
  client: () => Promise<Client>,
  params: CallToolRequest['params'],
  opts: { idempotent?: boolean } = {},
): Promise<CallToolResult> {
  return guard.run(key, async (signal) => {
    const send = async () =>
      (await (await client()).callTool(params, undefined, { signal, timeout: guard.timeoutMs + 1_000 })) as CallToolResult;
    try {
      return await send();
    } catch (err) {
      if (!opts.idempotent || !isConnectionFailure(err) || signal.aborted) throw err;
      return send();
    }
  });
}

/**
 * The Cedar action uid an upstream is bound to: `Procurement::Action::"submit_bid"` for
 * namespace `Procurement` and tool `submit_bid`. A tool name alone is not enough: another domain
 * pack could declare the same name with another tier.
 */
export function upstreamAction(namespace: string, tool: string): string {
  return `${namespace}::Action::${JSON.stringify(tool)}`;
}

/** Parses `--upstream Namespace::tool=URL` flags into an action -> URL map. */
export function parseUpstreams(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)::([a-z][a-z0-9_]*)=(https?:\/\/.+)$/.exec(spec);
    if (!m)
      throw new InputError(
        `--upstream must be Namespace::tool=http(s)://host:port/path (an upstream is bound to the domain's action, not to a bare tool name), got '${spec}'`,
        { field: '--upstream' },
      );
    const action = upstreamAction(m[1]!, m[2]!);
    if (out[action]) throw new InputError(`--upstream names ${m[1]}::${m[2]} twice`, { field: '--upstream' });
    out[action] = m[3]!;
  }
  return out;
}

/**
 * An upstream tool server in this process (e.g. the procurement tools the negotiation stack
 * serves): called directly, without a loopback HTTP hop. `name` labels it in the guard's key.
 * It is reached the same way as a URL: only after the gateway's decision, under the guard.
 */
export interface LocalUpstream {
  name: string;
  callTool(params: CallToolRequest['params']): Promise<CallToolResult>;
}

/**
 * MCP clients to the upstream tool servers, one connection per server URL (or an upstream in
 * this process, called directly), each call passing
 * through the per-(tenant, upstream) guard so one tenant's slow or failing supplier cannot
 * exhaust another tenant's capacity. Upstreams are bound to Cedar action uids (the manifest
 * tool's `action`): a tool that another pack declared under the same name in its own namespace
 * reaches no upstream.
 */
export class UpstreamPool {
  private readonly clients = new Map<string, LazyMcpClient>();
  readonly guard: UpstreamGuard;

  constructor(
    private readonly upstreams: Record<string, string | LocalUpstream>,
    guard: UpstreamGuardOptions = DEFAULT_UPSTREAM_GUARD,
  ) {
    this.guard = BREAKERS.guard('gateway-upstream', guard, { tenantKeyed: true });
  }

  /** `tool.action` picks the upstream, `tool.name` is what the upstream is asked to run. `idempotent`: a read-tier tool, so a broken connection is retried once. */
  async call(
    tenant: string,
    tool: { name: string; action: string },
    args: Record<string, unknown>,
    opts: { idempotent?: boolean } = {},
  ): Promise<CallToolResult> {
    const upstream = Object.hasOwn(this.upstreams, tool.action) ? this.upstreams[tool.action] : undefined;
    if (!upstream) throw new Error(`no upstream tool server is bound to action ${tool.action}`);
    // The tool span's W3C trace context goes to the upstream in `_meta` (none when tracing is off).
    const trace = traceCarrier();
    const params = { name: tool.name, arguments: args, ...(trace.traceparent ? { _meta: trace } : {}) };
    if (typeof upstream !== 'string') return this.guard.run(`${tenant}|local:${upstream.name}`, () => upstream.callTool(params));
    return guardedToolCall(this.guard, `${tenant}|${upstream}`, () => this.client(upstream), params, opts);
  }

  /**
   * How long a caller of the gateway should wait for one tool call: the upstream deadline plus
   * the gateway's own work, so that a slow upstream ends as the gateway's recorded failure
   * rather than as a caller that gave up on a call the gateway is still making.
   */
  get callerTimeoutMs(): number {
    return this.guard.timeoutMs + GATEWAY_OVERHEAD_MS;
  }

  private client(url: string): Promise<Client> {
    let client = this.clients.get(url);
    if (!client) this.clients.set(url, (client = new LazyMcpClient(url, 'charter-gateway')));
    return client.get();
  }

  async close(): Promise<void> {
    BREAKERS.release(this.guard);
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
