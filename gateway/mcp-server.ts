import type { IncomingMessage } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';
import { errorMessage, errorWithCauses } from '../common/index.js';
import type { DecisionPath, GatewayDecision } from './decide.js';
import type { CallerIdentity, IdentityVerifier } from './identity.js';
import { HttpRefusal, serveStatelessMcp, type LoopbackMcp } from './loopback-mcp.js';
import type { UpstreamPool } from './upstreams.js';

/** Request `_meta` keys a caller may set: approval tokens and correlation ids. */
const CallMeta = z
  .object({
    'charter/approvalTokens': z.array(z.string()).optional(),
    'charter/traceId': z.string().min(1).optional(),
    'charter/runId': z.string().min(1).optional(),
  })
  .optional();

// The SDK gives every Server its own Ajv unless told otherwise, about 1.4 ms a construction:
// over stateless HTTP that is a Server, so a request. One instance serves them all.
const SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

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
 * An MCP server for one verified caller: it lists only the tools the caller's agent manifest
 * permits (with their argument contracts as input schemas), decides every call on the
 * decision path, and forwards what is not blocked to the upstream tool server.
 */
export function createGatewayServer(path: DecisionPath, upstreams: UpstreamPool, identity: CallerIdentity): Server {
  const server = new Server(
    { name: 'charter-gateway', version: '0.1.0' },
    { capabilities: { tools: {} }, jsonSchemaValidator: SCHEMA_VALIDATOR },
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
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const meta = CallMeta.safeParse(req.params._meta);
    const m = meta.success ? meta.data : undefined;
    const d = await path.decide({
      identity,
      tool: req.params.name,
      args: req.params.arguments ?? {},
      approvalTokens: m?.['charter/approvalTokens'] ?? [],
      traceId: m?.['charter/traceId'] ?? null,
      runId: m?.['charter/runId'] ?? null,
    });
    const _meta = { 'charter/decision': decisionMeta(d) };
    if (d.blocked) {
      const text =
        d.outcome === 'approval-pending' ? `approval pending (request ${d.approvalRequest!.id})` : `denied: ${d.record.reasons.join('; ')}`;
      return { isError: true, content: [{ type: 'text', text }], _meta };
    }
    try {
      const result = await upstreams.call(identity.tenantId, req.params.name, d.args, { idempotent: d.record.tier === 'read' });
      return { ...result, _meta: { ...result._meta, ..._meta } };
    } catch (err) {
      return { isError: true, content: [{ type: 'text', text: `upstream failed: ${errorWithCauses(err)}` }], _meta };
    }
  });
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

/**
 * The gateway over Streamable HTTP on loopback, stateless: each POST to /mcp carries a bearer
 * JWT, verified (or found among tokens already verified) before any MCP message is read. A
 * request without a valid token gets 401 and reaches no tool decision (there is no tenant to
 * decide for); it is recorded as a deny without a verified tenant, rate-limited
 * (`DecisionPath.refusals`), and the count not yet recorded is written when the server closes.
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
    return createGatewayServer(path, upstreams, identity);
  }, port);
  return {
    url: http.url,
    close: async () => {
      await http.close();
      await path.refusals.flush();
    },
  };
}
