import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  AgentFactory,
  mcpToolChannel,
  type AgentFactoryOptions,
  type AgentOutput,
  type GovernedAgent,
  type InvokeOptions,
} from '../agents/index.js';
import { connectInProcess, type DecisionPath, type UpstreamPool } from '../gateway/index.js';
import type { AgentDispatcher } from './orchestrator.js';

/** Who the orchestrator's agents act as at the gateway (the audit record's principal). */
export const ORCHESTRATOR_PRINCIPAL = 'svc:charter-orchestrator';

/**
 * Agents in this process, each bound to one tenant by the factory and reaching tools only
 * through the gateway's MCP server over an in-process transport. Built once per (tenant,
 * agent) and kept: construction is where config, manifest and connection cost is paid.
 */
export class LocalAgents implements AgentDispatcher {
  private readonly agents = new Map<string, Promise<GovernedAgent>>();
  private readonly clients: Client[] = [];
  private readonly factory: AgentFactory;

  constructor(path: DecisionPath, upstreams: UpstreamPool, opts: Omit<AgentFactoryOptions, 'channels'>) {
    this.factory = new AgentFactory({
      ...opts,
      channels: async (tenantId, agent) => {
        const client = await connectInProcess(path, upstreams, { principal: ORCHESTRATOR_PRINCIPAL, tenantId, agentId: agent });
        this.clients.push(client);
        return mcpToolChannel(client, { timeoutMs: upstreams.callerTimeoutMs });
      },
    });
  }

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
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

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
  }
}
