import { join } from 'node:path';
import type { ModelClients } from '../model-provider.js';
import { errorMessage, type Listening } from '../../common/index.js';
import { HttpRefusal, LazyMcpClient, type CallerIdentity, type IdentityConfig, type IdentityVerifier } from '../../gateway/index.js';
import type { AgentManifestView } from '../agent.js';
import type { ConfigStore } from '../config.js';
import { AgentFactory } from '../factory.js';
import { mcpToolChannel } from '../mcp-channel.js';
import type { ToolChannel } from '../toolbox.js';
import { serveAgentCoreRuntime, IDENTITY_HEADER, type InvocationPayload, type InvocationRequest } from './agentcore-server.js';
import { InvocationGate } from './invocation-envelope.js';

/**
 * The identity the platform gives each invocation of an agent process: a short-lived JWT
 * signed by the orchestrator's identity key, whose public half (a JWKS file in the Charter
 * home) both the gateway and the agent processes trust.
 */
export const AGENT_IDENTITY = {
  issuer: 'charter.local/orchestrator',
  audience: 'charter-gateway',
  keyFile: (home: string) => join(home, 'keys', 'agent-identity.key.pem'),
  jwksFile: (home: string) => join(home, 'keys', 'agent-identity.jwks.json'),
  config: (home: string): IdentityConfig => ({
    jwks: AGENT_IDENTITY.jwksFile(home),
    issuer: AGENT_IDENTITY.issuer,
    audience: AGENT_IDENTITY.audience,
  }),
};

export interface AgentHostOptions {
  agent: string;
  /** The gateway's MCP endpoint (Streamable HTTP); the agent reaches tools only there. */
  gatewayUrl: string;
  /** The agent's verified manifest. */
  manifest: AgentManifestView;
  config: ConfigStore;
  /** Verifies the invocation's identity token (the same issuer and keys the gateway trusts). */
  identity: IdentityVerifier;
  /** Checks the invocation's signed envelope (after the token) before the agent acts. */
  envelopes: InvocationGate;
  /** How long one gateway tool call may take (the gateway's upstream deadline plus its own work). */
  toolTimeoutMs: number;
  models?: ModelClients;
  warn?: (message: string) => void;
  port?: number;
  /** Listen address (default loopback; the runtime image listens on 0.0.0.0). */
  host?: string;
  /** Serve this tenant only (a silo runtime). */
  tenant?: string;
}

/** The verified identity of an invocation and the token its gateway calls carry. */
interface InvocationCaller {
  caller: CallerIdentity;
  token: string;
}

async function verifiedCaller(opts: AgentHostOptions, payload: InvocationPayload, request: InvocationRequest): Promise<InvocationCaller> {
  const token = request.identityToken;
  if (!token) throw new HttpRefusal(401, `no identity token (header ${IDENTITY_HEADER})`);
  let caller: CallerIdentity;
  try {
    caller = await opts.identity.verify(token);
  } catch (err) {
    throw new HttpRefusal(401, errorMessage(err));
  }
  if (caller.agentId !== opts.agent)
    throw new HttpRefusal(403, `the identity token is for agent '${caller.agentId}', this process runs '${opts.agent}'`);
  if (opts.tenant !== undefined && caller.tenantId !== opts.tenant)
    throw new HttpRefusal(403, `this runtime serves tenant '${opts.tenant}' only, the identity token is for '${caller.tenantId}'`);
  if (caller.tenantId !== payload.tenantId)
    throw new HttpRefusal(403, `the identity token is for tenant '${caller.tenantId}', the payload names '${payload.tenantId}'`);
  // The platform's token says who may act; the orchestrator's envelope says this exact
  // invocation was sent, to this agent, under this manifest, once.
  await opts.envelopes.check(request.envelope, payload, caller);
  return { caller, token };
}

/**
 * One agent as its own runtime (AgentCore Runtime HTTP contract). Each invocation must carry
 * a platform-issued identity token naming this agent and the payload's tenant, and the
 * orchestrator's signed envelope for exactly this invocation (InvocationGate); the agent is
 * built for that tenant and its tool calls go to the gateway over MCP with that token as
 * bearer, for this invocation only. The gateway, not this process, decides tenant and agent
 * of every call from the verified token, so a compromised process cannot act for another.
 */
export function serveAgentHost(opts: AgentHostOptions): Promise<Listening> {
  const run = async (payload: InvocationPayload, { caller, token }: InvocationCaller) => {
    // Connected on the first tool call, so input the agent refuses costs no gateway session.
    const gateway = new LazyMcpClient(opts.gatewayUrl, `${opts.agent}-process`, { headers: { authorization: `Bearer ${token}` } });
    const channel: ToolChannel = {
      callTool: async (tool, args, meta) =>
        mcpToolChannel(await gateway.get(), { timeoutMs: opts.toolTimeoutMs }).callTool(tool, args, meta),
    };
    try {
      const factory = new AgentFactory({
        manifests: new Map([[opts.agent, opts.manifest]]),
        config: opts.config,
        channels: async () => channel,
        ...(opts.models ? { models: opts.models } : {}),
        ...(opts.warn ? { warn: opts.warn } : {}),
      });
      const agent = await factory.create(opts.agent, caller.tenantId);
      return await agent.invoke(payload.input, {
        ...(payload.negotiationId ? { negotiationId: payload.negotiationId } : {}),
        ...(payload.traceId ? { traceId: payload.traceId } : {}),
      });
    } finally {
      await gateway.close();
    }
  };
  return serveAgentCoreRuntime<InvocationCaller>((payload, _session, auth) => run(payload, auth), {
    // Verified before the session is bound: a bad token cannot claim a session for a tenant.
    authorize: (payload, request) => verifiedCaller(opts, payload, request),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
  });
}
