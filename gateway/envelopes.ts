import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { FindingError } from '../common/index.js';
import { canonicalJson, DsseEnvelope, signEnvelope, verifyEnvelope, type Signer, type TrustedKeysFile } from '../signing/index.js';

export const AGENT_ENVELOPE_PAYLOAD_TYPE = 'application/vnd.charter.agent-envelope+json';

/**
 * An agent-to-agent message (seed 004, A2A): who sends (agent_id, signed with that agent's own
 * Ed25519 key), for which tenant, in which trace, under which policy (policy_context = the
 * sender's manifest digest), what it asks (action + body), and a short life (iat + ttl, nonce).
 */
export const AgentMessage = z.strictObject({
  agent_id: z.string().min(1),
  tenant_id: z.string().min(1),
  trace_id: z.string().min(1),
  policy_context: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  action: z.string().min(1),
  body: z.unknown(),
  /** Issued at, seconds since the epoch. */
  iat: z.number().int(),
  /** Seconds the envelope is valid after iat. */
  ttl: z.number().int().positive(),
  nonce: z.string().min(16),
});
export type AgentMessage = z.infer<typeof AgentMessage>;

export async function sealAgentMessage(
  msg: Omit<AgentMessage, 'iat' | 'nonce'> & { iat?: number; nonce?: string },
  signer: Signer,
): Promise<DsseEnvelope> {
  const full: AgentMessage = { ...msg, iat: msg.iat ?? Math.floor(Date.now() / 1000), nonce: msg.nonce ?? randomUUID() };
  return signEnvelope(AGENT_ENVELOPE_PAYLOAD_TYPE, Buffer.from(canonicalJson(AgentMessage.parse(full))), [signer]);
}

/**
 * Nonces seen, each kept until the envelope that carried it expires: an expired envelope is
 * refused on its expiry, so forgetting its nonce then is safe and the store stays bounded by
 * (rate x TTL).
 */
export class NonceStore {
  private readonly seen = new Map<string, number>();
  private sweptAt = -Infinity;

  /** Records a nonce; false when it was already seen (a replay). */
  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    // Sweep at most once a second: O(1) amortised per envelope, entries outlive expiry by <= 1 s.
    if (nowMs - this.sweptAt >= 1000) {
      for (const [n, exp] of this.seen) if (exp <= nowMs) this.seen.delete(n);
      this.sweptAt = nowMs;
    }
    const known = this.seen.get(nonce);
    if (known !== undefined && known > nowMs) return false;
    this.seen.set(nonce, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

export interface ReceiverPolicy {
  /** This receiver's tenant: envelopes for any other tenant are refused. */
  tenant: string;
  /** Keys trusted for `agent-envelope`; a key's name is the agent it speaks for. */
  trustedKeys: TrustedKeysFile;
  /** Allowed action contract: sender agent -> its manifest digest and the actions it may ask of this receiver. */
  senders: Record<string, { manifestDigest: string; actions: string[] }>;
  /** Longest TTL accepted, seconds. */
  maxTtlSeconds: number;
  /** Clock skew tolerated for iat in the future, seconds. */
  skewSeconds?: number;
}

/**
 * Receives an agent envelope, checking in order: signature by a key trusted for agent
 * envelopes whose name is the claimed agent_id (caller identity), tenant boundary, allowed
 * action contract (known sender, its current manifest digest, a permitted action), expiry, and
 * replay. Any failure is a FindingError naming the check.
 */
export class EnvelopeReceiver {
  constructor(
    private readonly policy: ReceiverPolicy,
    private readonly nonces = new NonceStore(),
  ) {}

  receive(envelope: unknown, nowMs = Date.now()): AgentMessage {
    const env = DsseEnvelope.safeParse(envelope);
    if (!env.success) throw new FindingError('envelope refused: not a DSSE envelope');
    const verified = verifyEnvelope(env.data, this.policy.trustedKeys, {
      payloadType: AGENT_ENVELOPE_PAYLOAD_TYPE,
      purpose: 'agent-envelope',
    });
    let parsed: ReturnType<typeof AgentMessage.safeParse>;
    try {
      parsed = AgentMessage.safeParse(JSON.parse(verified.payload.toString('utf8')));
    } catch {
      throw new FindingError('envelope refused: payload is not JSON');
    }
    if (!parsed.success)
      throw new FindingError(`envelope refused: payload ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    const msg = parsed.data;
    if (!verified.signedBy.some((k) => k.name === msg.agent_id)) {
      throw new FindingError(
        `envelope refused: claims agent '${msg.agent_id}' but is signed by ${verified.signedBy.map((k) => k.name).join(', ')}`,
      );
    }
    if (msg.tenant_id !== this.policy.tenant)
      throw new FindingError(`envelope refused: tenant '${msg.tenant_id}' crosses the boundary of tenant '${this.policy.tenant}'`);
    const sender = this.policy.senders[msg.agent_id];
    if (!sender) throw new FindingError(`envelope refused: agent '${msg.agent_id}' may not call this receiver`);
    if (msg.policy_context !== sender.manifestDigest)
      throw new FindingError(`envelope refused: policy_context ${msg.policy_context} is not the current manifest of '${msg.agent_id}'`);
    if (!sender.actions.includes(msg.action))
      throw new FindingError(`envelope refused: action '${msg.action}' is not in the contract of '${msg.agent_id}'`);
    if (msg.ttl > this.policy.maxTtlSeconds)
      throw new FindingError(`envelope refused: ttl ${msg.ttl}s exceeds ${this.policy.maxTtlSeconds}s`);
    const skew = (this.policy.skewSeconds ?? 5) * 1000;
    const expiresAt = (msg.iat + msg.ttl) * 1000;
    if (msg.iat * 1000 > nowMs + skew) throw new FindingError('envelope refused: issued in the future');
    if (expiresAt <= nowMs) throw new FindingError(`envelope refused: expired ${Math.round((nowMs - expiresAt) / 1000)}s ago`);
    if (!this.nonces.remember(`${msg.agent_id}:${msg.nonce}`, expiresAt + skew, nowMs))
      throw new FindingError(`envelope refused: nonce ${msg.nonce} replayed`);
    return msg;
  }
}
