import { AGENT_IDENTITY } from '../agents/index.js';
import { LocalTokenIssuer } from '../gateway/index.js';
import { ORCHESTRATOR_PRINCIPAL } from './local-agents.js';

/** Lifetime of an invocation's identity token: long enough for one agent step, short enough to be useless later. */
export const IDENTITY_TOKEN_SECONDS = 300;

/**
 * The platform side of agent identity: the orchestrator holds an Ed25519 key in the Charter
 * home and mints, per invocation, a short-lived token whose tenantId and agentId claims the
 * gateway trusts (the agent never asserts them). The public half is the home's JWKS file.
 */
export class AgentIdentityIssuer {
  private constructor(private readonly issuer: LocalTokenIssuer) {}

  static async open(home: string): Promise<AgentIdentityIssuer> {
    return new AgentIdentityIssuer(
      await LocalTokenIssuer.open({
        keyFile: AGENT_IDENTITY.keyFile(home),
        jwksFile: AGENT_IDENTITY.jwksFile(home),
        issuer: AGENT_IDENTITY.issuer,
        audience: AGENT_IDENTITY.audience,
      }),
    );
  }

  /** A token for one invocation of `agentId` for `tenantId`; `nowMs` only moves for tests. */
  mint(tenantId: string, agentId: string, nowMs = Date.now()): Promise<string> {
    return this.issuer.mint(ORCHESTRATOR_PRINCIPAL, { tenantId, agentId }, IDENTITY_TOKEN_SECONDS, nowMs);
  }
}
