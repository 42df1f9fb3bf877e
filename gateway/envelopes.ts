import { randomUUID } from 'node:crypto';
import type { StatementSync } from 'node:sqlite';
import { z } from 'zod';
import { FindingError, inTransaction, openSqlite, type SqliteDatabase } from '../common/index.js';
import {
  canonicalJson,
  digestJson,
  DsseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type Signer,
  type TrustedKeysFile,
} from '../signing/index.js';

export const AGENT_ENVELOPE_PAYLOAD_TYPE = 'application/vnd.charter.agent-envelope+json';

/**
 * A signed message to an agent (seed 004, A2A; and every orchestrator -> agent invocation):
 * who sends (agent_id, signed with that sender's own `agent-envelope` key, named as the
 * sender), to whom (recipient), for which tenant, in which trace, under which policy
 * (policy_context: a manifest digest the receiver expects), what it asks (action + body), and a
 * short life (iat + ttl, nonce).
 */
export const AgentMessage = z.strictObject({
  agent_id: z.string().min(1),
  recipient: z.string().min(1),
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
 * (rate x TTL). Kept in SQLite (a file in the Charter home), so a receiver that restarts still
 * refuses a replay of an envelope it accepted before, and several receiver processes share one
 * store; `:memory:` for a receiver that lives and dies with its only sender.
 */
export class NonceStore {
  private sweptAt = -Infinity;
  // Prepared once: preparing costs more than these one-row statements (one check per invocation).
  private readonly sweep: StatementSync;
  private readonly seen: StatementSync;
  private readonly keep: StatementSync;

  private constructor(private readonly db: SqliteDatabase) {
    db.exec('CREATE TABLE IF NOT EXISTS envelope_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) STRICT');
    this.sweep = db.prepare('DELETE FROM envelope_nonces WHERE expires_at <= ?');
    this.seen = db.prepare('SELECT expires_at FROM envelope_nonces WHERE nonce = ?');
    this.keep = db.prepare('INSERT OR REPLACE INTO envelope_nonces (nonce, expires_at) VALUES (?, ?)');
  }

  static open(file = ':memory:'): NonceStore {
    return new NonceStore(openSqlite(file));
  }

  /** Records a nonce; false when it was already seen and its envelope still lives (a replay). */
  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    return inTransaction(this.db, () => {
      // Sweep at most once a second: entries outlive expiry by <= 1 s.
      if (nowMs - this.sweptAt >= 1000) {
        this.sweep.run(nowMs);
        this.sweptAt = nowMs;
      }
      const known = this.seen.get(nonce) as { expires_at: number } | undefined;
      if (known !== undefined && known.expires_at > nowMs) return false;
      this.keep.run(nonce, Math.ceil(expiresAtMs));
      return true;
    });
  }

  get size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM envelope_nonces').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

export interface ReceiverPolicy {
  /** This receiver's name: envelopes addressed to anyone else are refused. */
  recipient: string;
  /** Keys trusted for `agent-envelope`; a key's name is the sender it speaks for. */
  trustedKeys: TrustedKeysFile;
  /** Allowed action contract: sender -> the actions it may ask of this receiver. */
  senders: Record<string, { actions: string[] }>;
  /** Longest TTL accepted, seconds. */
  maxTtlSeconds: number;
  /** Clock skew tolerated for iat in the future, seconds. */
  skewSeconds?: number;
}

/** What the receiver expects of one envelope besides its own policy. */
export interface ExpectedMessage {
  /** The tenant the message must be for (e.g. the verified identity token's). */
  tenant: string;
  /** The manifest digest the message must name (e.g. the receiver's own manifest). */
  policyContext: string;
  /** The body the message must carry (compared by canonical digest), e.g. the digest of the payload it covers. */
  body?: unknown;
}

/**
 * Receives an agent envelope, checking in order: signature by a key trusted for agent
 * envelopes whose name is the claimed agent_id (caller identity), recipient, tenant boundary,
 * allowed action contract, policy context, body, expiry, and replay. Any failure is a
 * FindingError naming the check.
 */
export class EnvelopeReceiver {
  constructor(
    private readonly policy: ReceiverPolicy,
    private readonly nonces: NonceStore,
  ) {}

  receive(envelope: unknown, expected: ExpectedMessage, nowMs = Date.now()): AgentMessage {
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
    if (msg.recipient !== this.policy.recipient)
      throw new FindingError(`envelope refused: addressed to '${msg.recipient}', this receiver is '${this.policy.recipient}'`);
    if (msg.tenant_id !== expected.tenant)
      throw new FindingError(`envelope refused: tenant '${msg.tenant_id}' crosses the boundary of tenant '${expected.tenant}'`);
    const sender = this.policy.senders[msg.agent_id];
    if (!sender) throw new FindingError(`envelope refused: agent '${msg.agent_id}' may not call this receiver`);
    if (!sender.actions.includes(msg.action))
      throw new FindingError(`envelope refused: action '${msg.action}' is not in the contract of '${msg.agent_id}'`);
    if (msg.policy_context !== expected.policyContext)
      throw new FindingError(
        `envelope refused: policy_context ${msg.policy_context} is not the expected manifest ${expected.policyContext}`,
      );
    if (expected.body !== undefined && digestJson(msg.body) !== digestJson(expected.body))
      throw new FindingError('envelope refused: its body does not match the message it came with');
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
