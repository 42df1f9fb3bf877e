import {
  agentAnswerError,
  ENVELOPE_HEADER,
  envelopeHeader,
  IDENTITY_HEADER,
  sealInvocation,
  parseAgentAnswer,
  runtimeInvocation,
  SESSION_HEADER,
  type AgentOutput,
  type InvokeOptions,
} from '../agents/index.js';
import { FindingError } from '../common/index.js';
import type { Signer } from '../signing/index.js';
import type { AgentIdentityIssuer } from './agent-identity.js';
import type { AgentSupervisor } from './agent-supervisor.js';
import type { AgentDispatcher } from './orchestrator.js';

/**
 * Dispatches to agents running as local processes behind the AgentCore Runtime contract:
 * `POST /invocations` with the session header and a freshly minted identity token (tenant and
 * agent set by the platform). Answers are checked as for AgentCore, plus the manifest: the
 * process must run the manifest the gateway enforces for that agent.
 */
export class ProcessAgents implements AgentDispatcher {
  constructor(
    private readonly supervisor: AgentSupervisor,
    private readonly identity: AgentIdentityIssuer,
    /** Manifest digest per agent, as loaded by the gateway. */
    private readonly digests: ReadonlyMap<string, string>,
    /** The orchestrator's agent-envelope key: every invocation carries an envelope it signed. */
    private readonly envelopes: Signer,
  ) {}

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
    const process = await this.supervisor.endpoint(agent);
    const { sessionId, payload } = runtimeInvocation(agent, tenantId, input, opts);
    const token = await this.identity.mint(tenantId, agent);
    const digest = this.digests.get(agent);
    if (!digest) throw new FindingError(`agent ${agent} has no manifest at the gateway`);
    const envelope = envelopeHeader(await sealInvocation(this.envelopes, agent, digest, payload));
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${process.url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SESSION_HEADER]: sessionId, [IDENTITY_HEADER]: token, [ENVELOPE_HEADER]: envelope },
        body: JSON.stringify(payload),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw await process.failure(err);
    }
    if (status < 200 || status > 299) throw agentAnswerError(agent, status, text, 'in its process');
    const out = parseAgentAnswer(agent, tenantId, text, 'in its process');
    if (out.manifestDigest !== digest)
      throw new FindingError(`agent ${agent} in its process runs manifest ${out.manifestDigest}, the gateway enforces ${digest}`);
    return out;
  }
}
