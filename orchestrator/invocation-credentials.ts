import { ENVELOPE_HEADER, envelopeHeader, IDENTITY_HEADER, sealInvocation, type InvocationAuth } from '../agents/index.js';
import { FindingError } from '../common/index.js';
import type { Signer } from '../signing/index.js';
import type { AgentIdentityIssuer } from './agent-identity.js';

/**
 * The platform's credentials for each invocation of an agent runtime, whatever runs it (a local
 * process or AgentCore Runtime): a freshly minted identity token (tenant and agent set by the
 * platform) and an envelope the orchestrator signs over exactly this invocation and the manifest
 * the gateway enforces for the agent, which the answer must name.
 */
export class InvocationCredentials implements InvocationAuth {
  constructor(
    private readonly identity: AgentIdentityIssuer,
    /** Manifest digest per agent, as loaded by the gateway. */
    private readonly digests: ReadonlyMap<string, string>,
    /** The orchestrator's agent-envelope key. */
    private readonly envelopes: Signer,
  ) {}

  async sign(agent: string, tenantId: string, payload: Parameters<InvocationAuth['sign']>[2]) {
    const manifestDigest = this.digests.get(agent);
    if (!manifestDigest) throw new FindingError(`agent ${agent} has no manifest at the gateway`);
    const token = await this.identity.mint(tenantId, agent);
    const envelope = envelopeHeader(await sealInvocation(this.envelopes, agent, manifestDigest, payload));
    return { headers: { [IDENTITY_HEADER]: token, [ENVELOPE_HEADER]: envelope }, manifestDigest };
  }
}
