import {
  AgentFactory,
  InvocationGate,
  mcpToolChannel,
  runtimeInvocation,
  sealInvocation,
  type AgentFactoryOptions,
  type AgentOutput,
  type GovernedAgent,
  type InvokeOptions,
} from '../agents/index.js';
import { inProcessGateway, NonceStore, type DecisionPath, type DecisionSink, type UpstreamPool } from '../gateway/index.js';
import type { Signer, TrustedKeysFile } from '../signing/index.js';
import type { AgentDispatcher } from './orchestrator.js';

/** Who the orchestrator's agents act as at the gateway (the audit record's principal). */
export const ORCHESTRATOR_PRINCIPAL = 'svc:charter-orchestrator';

/** The orchestrator's envelope key and what the in-process runtimes check envelopes with. */
export interface LocalEnvelopes {
  signer: Signer;
  trustedKeys: TrustedKeysFile;
  /** Where a refused invocation is recorded. */
  audit: DecisionSink;
}

/**
 * Agents in this process, each bound to one tenant by the factory and reaching tools only
 * through the gateway, called in process (`inProcessGateway`: the same decision and audit record
 * as over MCP, without MCP's serialisation in between). Built once per (tenant,
 * agent) and kept: construction is where config, manifest and connection cost is paid. Every
 * invocation carries the orchestrator's signed envelope, checked by the agent's runtime gate
 * before it acts, as an agent process checks it; nonces are kept in memory, since this runtime
 * lives and dies with its only sender.
 */
export class LocalAgents implements AgentDispatcher {
  private readonly agents = new Map<string, Promise<GovernedAgent>>();
  private readonly factory: AgentFactory;
  private readonly gates = new Map<string, InvocationGate>();
  private readonly nonces = NonceStore.open(':memory:');

  constructor(
    path: DecisionPath,
    upstreams: UpstreamPool,
    private readonly opts: Omit<AgentFactoryOptions, 'channels'> & { envelopes: LocalEnvelopes },
  ) {
    this.factory = new AgentFactory({
      ...opts,
      channels: async (tenantId, agent) =>
        mcpToolChannel(inProcessGateway(path, upstreams, { principal: ORCHESTRATOR_PRINCIPAL, tenantId, agentId: agent }), {
          timeoutMs: upstreams.callerTimeoutMs,
        }),
    });
  }

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
    const digest = this.opts.manifests.get(agent)?.digest;
    if (digest) {
      // Without a manifest there is nothing to act under: the factory refuses the agent below.
      const { payload } = runtimeInvocation(agent, tenantId, input, opts);
      const envelope = await sealInvocation(this.opts.envelopes.signer, agent, digest, payload);
      await this.gate(agent, digest).check(envelope, payload, { principal: ORCHESTRATOR_PRINCIPAL, tenantId, agentId: agent });
    }
    const key = `${tenantId}#${agent}`;
    let pending = this.agents.get(key);
    if (!pending) {
      pending = this.factory.create(agent, tenantId);
      this.agents.set(key, pending);
      // A failed construction is not kept: the next invocation tries again.
      pending.catch(() => this.agents.delete(key));
    }
    return (await pending).invoke(input, opts);
  }

  private gate(agent: string, manifestDigest: string): InvocationGate {
    let gate = this.gates.get(agent);
    if (!gate) {
      const { trustedKeys, audit } = this.opts.envelopes;
      gate = new InvocationGate({
        agent,
        manifestDigest,
        trustedKeys,
        nonces: this.nonces,
        refused: (r) => audit.append(r).then(() => undefined),
      });
      this.gates.set(agent, gate);
    }
    return gate;
  }

  async close(): Promise<void> {
    this.nonces.close();
  }
}
