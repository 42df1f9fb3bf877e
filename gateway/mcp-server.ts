import type { IncomingMessage } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolRequest,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { SpanKind } from '@opentelemetry/api';
import { z } from 'zod';
import { activeTraceId, ATTR, contextFrom, errorMessage, errorWithCauses, inSpan } from '../common/index.js';
import type { DecisionPath, GatewayDecision } from './decide.js';
import type { CallerIdentity, IdentityVerifier } from './identity.js';
import { HttpRefusal, serveStatelessMcp, SHARED_SCHEMA_VALIDATOR, type LoopbackMcp, type OpenedMcp } from './loopback-mcp.js';
import { carriedCalls, readMcpBody, type CarriedCall } from './mcp-calls.js';
import type { UpstreamPool } from './upstreams.js';

/**
 * Request `_meta` keys a caller may set: approval tokens, correlation ids, and `charter/stopped`:
 * the caller withdraws the call and asks only that it be recorded (a model's proposal its loop
 * stopped at a bound). It can only turn a call into a deny, never into an allow.
 */
const CallMeta = z
  .object({
    'charter/approvalTokens': z.array(z.string()).optional(),
    'charter/traceId': z.string().min(1).optional(),
    'charter/runId': z.string().min(1).optional(),
    'charter/stopped': z.string().min(1).optional(),
  })
  .optional();

/** What the gateway tells the agent about its decision, in the result's `_meta`. */
export interface DecisionMeta {
  outcome: GatewayDecision['outcome'];
  decision: 'allow' | 'deny';
  mode: string;
  recordId: string;
  reasons: string[];
  approvalRequest?: GatewayDecision['approvalRequest'];
}

function decisionMeta(d: GatewayDecision): DecisionMeta {
  return {
    outcome: d.outcome,
    decision: d.record.decision,
    mode: d.record.mode,
    recordId: d.record.id,
    reasons: d.record.reasons,
    ...(d.approvalRequest ? { approvalRequest: d.approvalRequest } : {}),
  };
}

/**
 * One tool call of a verified caller: decided (and recorded) on the decision path, then, unless
 * blocked, forwarded to the upstream bound to the manifest tool's action. The result carries the
 * decision in `_meta['charter/decision']`. Both the MCP server and the in-process caller run it.
 */
async function governedToolCall(
  path: DecisionPath,
  upstreams: UpstreamPool,
  identity: CallerIdentity,
  params: CallToolRequest['params'],
  onDecided?: () => void,
): Promise<CallToolResult> {
  const meta = CallMeta.safeParse(params._meta);
  const m = meta.success ? meta.data : undefined;
  // The caller's trace, from the W3C traceparent in `_meta` (MCP has no headers of its own).
  const parent = contextFrom(params._meta);
  const attributes = { [ATTR.tenant]: identity.tenantId, [ATTR.agent]: identity.agentId, [ATTR.tool]: params.name };
  return inSpan(
    'gateway.tool_call',
    attributes,
    async () => {
      const d = await path.decide({
        identity,
        tool: params.name,
        args: params.arguments,
        approvalTokens: m?.['charter/approvalTokens'] ?? [],
        // The record's trace id is the OpenTelemetry trace id when the call carries one.
        traceId: activeTraceId() ?? m?.['charter/traceId'] ?? null,
        runId: m?.['charter/runId'] ?? null,
        ...(m?.['charter/stopped'] ? { refused: `stopped by the agent's model loop: ${m['charter/stopped'].slice(0, 1000)}` } : {}),
      });
      onDecided?.();
      const _meta = { 'charter/decision': decisionMeta(d) };
      if (d.blocked) {
        const text =
          d.outcome === 'approval-pending'
            ? `approval pending (request ${d.approvalRequest!.id})`
            : `denied: ${d.record.reasons.join('; ')}`;
        return { isError: true, content: [{ type: 'text', text }], _meta };
      }
      try {
        // The upstream is the one bound to the manifest tool's action, never found by name alone.
        const tool = { name: params.name, action: d.record.action };
        const result = await inSpan(
          `tool ${params.name}`,
          { ...attributes, [ATTR.tier]: d.record.tier ?? '' },
          () => upstreams.call(identity.tenantId, tool, d.args, { idempotent: d.record.tier === 'read' }),
          { kind: SpanKind.CLIENT },
        );
        return { ...result, _meta: { ...result._meta, ..._meta } };
      } catch (err) {
        return { isError: true, content: [{ type: 'text', text: `upstream failed: ${errorWithCauses(err)}` }], _meta };
      }
    },
    { parent, kind: SpanKind.SERVER },
  );
}

/**
 * The gateway for a caller in this process (the orchestrator's agents): the same governed call
 * as over MCP (decision, audit record, upstream), without an MCP client, server and transport
 * serialising every message in between.
 */
export function inProcessGateway(
  path: DecisionPath,
  upstreams: UpstreamPool,
  identity: CallerIdentity,
): { callTool(params: CallToolRequest['params']): Promise<CallToolResult> } {
  return { callTool: (params) => governedToolCall(path, upstreams, identity, params) };
}

/**
 * An MCP server for one verified caller: it lists only the tools the caller's agent manifest
 * permits (with their argument contracts as input schemas), decides every call on the
 * decision path, and forwards what is not blocked to the upstream tool server.
 */
export function createGatewayServer(
  path: DecisionPath,
  upstreams: UpstreamPool,
  identity: CallerIdentity,
  /** Told the JSON-RPC id of every call decided (the HTTP server accounts for calls that never got here). */
  onDecided?: (requestId: string | number) => void,
): Server {
  const server = new Server(
    { name: 'charter-gateway', version: '0.1.0' },
    { capabilities: { tools: {} }, jsonSchemaValidator: SHARED_SCHEMA_VALIDATOR },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: path.toolsFor(identity.agentId).map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.args as { type: 'object'; [k: string]: unknown },
      annotations: { readOnlyHint: t.tier === 'read', destructiveHint: t.tier === 'critical' },
      _meta: { 'charter/tier': t.tier },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> =>
    governedToolCall(path, upstreams, identity, req.params, () => onDecided?.(extra.requestId)),
  );
  return server;
}

/** An MCP client connected in-process to the gateway as `identity` (for the orchestrator and tests). */
export async function connectInProcess(path: DecisionPath, upstreams: UpstreamPool, identity: CallerIdentity): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createGatewayServer(path, upstreams, identity).connect(serverSide);
  const client = new Client({ name: `${identity.agentId}-in-process`, version: '0.1.0' });
  await client.connect(clientSide);
  return client;
}

/** Denies and records calls that cannot be decided on their merits; the decisions' meta, for the caller. */
async function refuseCalls(path: DecisionPath, identity: CallerIdentity, calls: CarriedCall[], why?: string): Promise<DecisionMeta[]> {
  const metas: DecisionMeta[] = [];
  for (const call of calls) {
    const refused = call.problem ?? why ?? 'refused';
    metas.push(decisionMeta(await path.decide({ identity, tool: call.tool, args: call.args, refused })));
  }
  return metas;
}

/**
 * Opens the gateway's MCP server for one authenticated request, after reading its body (at
 * most MAX_REQUEST_BYTES) and finding the tool calls it carries. Every call leaves exactly one
 * decision record: a body the MCP layer would refuse before the handler (too large, not JSON,
 * not JSON-RPC, a malformed `tools/call`) is answered here, each call in it denied and
 * recorded; a well-formed call is decided by the handler, and one the transport still answers
 * without reaching the handler (e.g. a wrong Accept header) is recorded as a deny once the
 * transport has answered.
 */
async function openForCaller(
  path: DecisionPath,
  upstreams: UpstreamPool,
  identity: CallerIdentity,
  req: IncomingMessage,
): Promise<OpenedMcp> {
  const read = await readMcpBody(req);
  if (!read.ok) {
    const decisions = await refuseCalls(path, identity, [read.call]);
    throw new HttpRefusal(read.status, read.call.problem!, { code: read.code, data: { 'charter/decisions': decisions } });
  }
  const calls = carriedCalls(read.body);
  const malformed = calls.filter((c) => c.problem);
  if (malformed.length > 0) {
    const decisions = await refuseCalls(path, identity, calls, 'refused with a malformed message in the same batch');
    throw new HttpRefusal(400, malformed.map((c) => c.problem).join('; '), { code: -32600, data: { 'charter/decisions': decisions } });
  }
  const decided = new Set<string | number>();
  return {
    server: createGatewayServer(path, upstreams, identity, (id) => decided.add(id)),
    parsedBody: read.body,
    settle: async (status) => {
      const missed = calls.filter((c) => c.id === undefined || !decided.has(c.id));
      await refuseCalls(path, identity, missed, `the MCP transport answered HTTP ${status} before the call was decided`);
    },
  };
}

/**
 * The gateway over Streamable HTTP on loopback, stateless: each POST to /mcp carries a bearer
 * JWT, verified (or found among tokens already verified) before any MCP message is read. A
 * request without a valid token gets 401 and reaches no tool decision (there is no tenant to
 * decide for); it is recorded as a deny without a verified tenant, rate-limited
 * (`DecisionPath.refusals`), and the count not yet recorded is written when the server closes.
 * An authenticated request leaves one decision record per tool call it carries, however
 * malformed (`openForCaller`).
 */
export async function serveGatewayHttp(
  path: DecisionPath,
  upstreams: UpstreamPool,
  verifier: IdentityVerifier,
  port = 0,
): Promise<LoopbackMcp> {
  const refuse = async (why: string, req: IncomingMessage): Promise<never> => {
    await path.refusals.refused(why, req.socket.remoteAddress ?? 'unknown address');
    throw new HttpRefusal(401, why);
  };
  const http = await serveStatelessMcp(async (req) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return refuse('missing bearer token', req);
    let identity: CallerIdentity;
    try {
      identity = await verifier.verify(bearer);
    } catch (err) {
      return refuse(errorMessage(err), req);
    }
    return openForCaller(path, upstreams, identity, req);
  }, port);
  return {
    url: http.url,
    close: async () => {
      await http.close();
      await path.refusals.flush();
    },
  };
}
