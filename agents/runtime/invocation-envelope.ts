import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { FindingError } from '../../common/index.js';
import { digestJson, DsseEnvelope, type Signer, type TrustedKeysFile } from '../../signing/index.js';
import {
  EnvelopeReceiver,
  HttpRefusal,
  NonceStore,
  sealAgentMessage,
  type AgentMessage,
  type CallerIdentity,
  type GatewayDecision,
} from '../../gateway/index.js';
import { ENVELOPE_HEADER, type InvocationPayload } from './agentcore-server.js';

/**
 * The signed envelope every orchestrator -> agent invocation carries: sent by the
 * orchestrator (its `agent-envelope` key, named `charter-orchestrator` in the trusted keys), to
 * one agent (recipient), for the payload's tenant, under that agent's manifest (policy_context),
 * covering the exact payload (body: its digest), for a minute, once (nonce).
 */
export const INVOCATION_ENVELOPE = {
  sender: 'charter-orchestrator',
  action: 'invoke',
  ttlSeconds: 60,
  /** A custom header of the AgentCore Runtime contract (base64 of the DSSE envelope's JSON), beside the identity token. */
  header: ENVELOPE_HEADER,
  /** The orchestrator's private key (`charter keys generate --name charter-orchestrator --purpose agent-envelope`). */
  keyFile: (home: string) => join(home, 'keys', 'charter-orchestrator.key.pem'),
  /**
   * A supervised agent process prints each refusal record as one stdout line with this prefix;
   * its supervisor, which holds the audit log, appends it.
   */
  recordPrefix: 'charter-record ',
  /** Nonces seen by the agent runtimes of a home, kept across restarts. */
  nonceFile: (home: string) => join(home, 'agent-envelope-nonces.sqlite'),
};

/** A deny record for the audit trail (the gateway's record type). */
type DecisionRecord = GatewayDecision['record'];

/** What an invocation envelope's body is: the digest of the exact payload it covers. */
function invocationBody(payload: InvocationPayload): { payloadDigest: string } {
  return { payloadDigest: digestJson(payload) };
}

function traceOf(payload: InvocationPayload): string {
  return payload.traceId ?? `${payload.tenantId}#${payload.negotiationId ?? 'adhoc'}`;
}

/** The orchestrator's side: seals one invocation of `agent` (whose manifest digest is `manifestDigest`). */
export function sealInvocation(signer: Signer, agent: string, manifestDigest: string, payload: InvocationPayload): Promise<DsseEnvelope> {
  return sealAgentMessage(
    {
      agent_id: INVOCATION_ENVELOPE.sender,
      recipient: agent,
      tenant_id: payload.tenantId,
      trace_id: traceOf(payload),
      policy_context: manifestDigest,
      action: INVOCATION_ENVELOPE.action,
      body: invocationBody(payload),
      ttl: INVOCATION_ENVELOPE.ttlSeconds,
    },
    signer,
  );
}

/** The envelope as the header carries it. */
export function envelopeHeader(envelope: DsseEnvelope): string {
  return Buffer.from(JSON.stringify(envelope)).toString('base64');
}

export interface InvocationGateOptions {
  agent: string;
  /** The manifest this runtime acts under: the envelope's policy_context must name it. */
  manifestDigest: string;
  /** Keys trusted for `agent-envelope` (the orchestrator's, by name). */
  trustedKeys: TrustedKeysFile;
  nonces: NonceStore;
  /** Where a refusal goes: a deny record for the audit trail. */
  refused: (record: DecisionRecord) => Promise<void> | void;
}

/**
 * The agent runtime's side: checks an invocation's envelope before the agent acts (signature
 * by the orchestrator's agent-envelope key, addressed to this agent, the caller's tenant, this
 * runtime's manifest, the exact payload, not expired, not seen before). A bad envelope is
 * refused (HTTP 403) and handed to `refused` as a deny record.
 */
export class InvocationGate {
  private readonly receiver: EnvelopeReceiver;

  constructor(private readonly opts: InvocationGateOptions) {
    this.receiver = new EnvelopeReceiver(
      {
        recipient: opts.agent,
        trustedKeys: opts.trustedKeys,
        senders: { [INVOCATION_ENVELOPE.sender]: { actions: [INVOCATION_ENVELOPE.action] } },
        maxTtlSeconds: INVOCATION_ENVELOPE.ttlSeconds,
      },
      opts.nonces,
    );
  }

  /** Checks the envelope (a DSSE object, or the header's base64 text) of an invocation by `caller`. */
  async check(envelope: unknown, payload: InvocationPayload, caller: CallerIdentity): Promise<AgentMessage> {
    const t0 = performance.now();
    try {
      if (envelope === undefined)
        throw new FindingError(`envelope refused: the invocation carries none (header ${INVOCATION_ENVELOPE.header})`);
      return this.receiver.receive(typeof envelope === 'string' ? decodeHeader(envelope) : envelope, {
        tenant: caller.tenantId,
        policyContext: this.opts.manifestDigest,
        body: invocationBody(payload),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.opts.refused(this.refusal(payload, caller, reason, performance.now() - t0));
      throw new HttpRefusal(403, reason);
    }
  }

  private refusal(payload: InvocationPayload, caller: CallerIdentity, reason: string, latencyMs: number): DecisionRecord {
    return {
      kind: 'decision',
      id: uuidv7(),
      time: new Date().toISOString(),
      tenantId: caller.tenantId,
      agentId: this.opts.agent,
      principal: caller.principal,
      tool: '(agent invocation)',
      traceId: traceOf(payload),
      runId: null,
      manifestDigest: this.opts.manifestDigest,
      action: `invoke:${this.opts.agent}`,
      resource: `Charter::Agent::"${this.opts.agent}"`,
      tier: null,
      argsDigest: digestJson(payload),
      decision: 'deny',
      mode: 'ENFORCE',
      determiningPolicies: [],
      reasons: [reason],
      errors: [],
      approvals: [],
      latencyMs,
    };
  }
}

function decodeHeader(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw new FindingError('envelope refused: the header is not base64 of a JSON envelope');
  }
}
