/**
 * What the page will sign, read in full and checked field by field against what the user saw
 * and chose (the intent) before the key touches it. The server builds the statements (the same
 * domain code as the CLI), so a console server that asks for a signature over anything else, a
 * deny turned approve, another tenant, another switch, another reason, another signer, an extra
 * field, is refused here: the page signs only a statement every field of which it can account for.
 * Browser code (WebCrypto and canonicalize only); the Node tests import it as it is.
 */
import canonicalizeExport from 'canonicalize';
import type { ApprovalView } from '../../pages-types.js';

/** An approval request as the approvals page shows it (the fields the statements carry). */
export type ShownRequest = Pick<
  ApprovalView,
  'id' | 'tenant' | 'agent' | 'tool' | 'tier' | 'argsDigest' | 'required' | 'requestedBy' | 'requestedAt' | 'expiresAt'
>;

/** The fields of a request the statements carry, from the row the page shows. */
export function shownRequest(r: ShownRequest): ShownRequest {
  const { id, tenant, agent, tool, tier, argsDigest, required, requestedBy, requestedAt, expiresAt } = r;
  return { id, tenant, agent, tool, tier, argsDigest, required, requestedBy, requestedAt, expiresAt };
}

/** What the user chose to sign, from what the page displays; `signer` is the signed-in name (the key's name must be it). */
export type Intent =
  | { act: 'approval'; decision: 'approve' | 'deny'; reason: string; signer: string; request: ShownRequest }
  | {
      act: 'kill-switch';
      action: 'engage' | 'release';
      kind: 'tenant' | 'agent';
      id: string;
      reason: string;
      signer: string;
      /** The engagement shown in the row a release is clicked on. */
      engaged?: { by: string; at: string; reason: string };
    };

export const APPROVAL_ISSUER = 'charter-approvals';
export const TOKEN_TYP = { approve: 'charter-approval+jwt', deny: 'charter-denial+jwt' } as const;
export const EVIDENCE_PAYLOAD_TYPE = 'application/vnd.charter.evidence+json';
/** How far a statement's own times may be from the browser's clock. */
const CLOCK_SKEW_S = 600;

export class StatementRefused extends Error {
  constructor(problem: string) {
    super(`refused to sign: ${problem}`);
  }
}

// canonicalize is CommonJS whose module.exports is the function: the bundler and Node both give it as the
// default import, which its typings declare differently under Node's module resolution.
const canonicalize = canonicalizeExport as unknown as (value: unknown) => string | undefined;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The object has exactly these keys (an extra field is something the page cannot account for). */
function keysAre(where: string, o: Json, keys: string[]): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !(k in o));
  if (extra.length) throw new StatementRefused(`${where} has fields the page does not show: ${extra.join(', ')}`);
  if (missing.length) throw new StatementRefused(`${where} lacks ${missing.join(', ')}`);
}

function same(where: string, actual: unknown, expected: unknown): void {
  if (canonicalize(actual) !== canonicalize(expected))
    throw new StatementRefused(`${where} is ${show(actual)}, the page shows ${show(expected)}`);
}

function recent(where: string, seconds: unknown, nowS: number): void {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || Math.abs(seconds - nowS) > CLOCK_SKEW_S)
    throw new StatementRefused(`${where} ${show(seconds)} is not now`);
}

const isoSeconds = (where: string, v: unknown): number => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new StatementRefused(`${where} is not a time`);
  return t / 1000;
};

/**
 * An approval or denial token's protected header and claims (gateway/approval-tokens.ts
 * `actToken`): exactly the request shown, the decision clicked (its `typ`), the reason typed,
 * the signed-in name as `sub`, the held key as `kid`; `jti` a UUID, `iat` now, `exp` no later
 * than the request's expiry (a denial: now at the latest).
 */
export function checkToken(header: unknown, claims: unknown, intent: Intent, keyId: string, nowMs: number): { jti: string } {
  if (intent.act !== 'approval') throw new StatementRefused('a kill-switch change signs no approval token');
  if (!isObject(header) || !isObject(claims)) throw new StatementRefused('the token is not a header and claims');
  const { request: r, decision } = intent;
  keysAre('the token header', header, ['alg', 'kid', 'typ']);
  same('the token header', header, { alg: 'EdDSA', kid: keyId, typ: TOKEN_TYP[decision] });
  const deny = decision === 'deny';
  keysAre('the token', claims, [
    'approvalId',
    'requestedBy',
    'tenant',
    'agent',
    'tool',
    'argsDigest',
    ...(deny ? ['reason'] : []),
    'iss',
    'sub',
    'jti',
    'iat',
    'exp',
  ]);
  const expected: Json = {
    approvalId: r.id,
    requestedBy: r.requestedBy,
    tenant: r.tenant,
    agent: r.agent,
    tool: r.tool,
    argsDigest: r.argsDigest,
    ...(deny ? { reason: intent.reason } : {}),
    iss: APPROVAL_ISSUER,
    sub: intent.signer,
  };
  for (const [k, v] of Object.entries(expected)) same(`the token's ${k}`, claims[k], v);
  if (typeof claims.jti !== 'string' || !UUID.test(claims.jti))
    throw new StatementRefused(`the token's jti ${show(claims.jti)} is not a UUID`);
  const nowS = nowMs / 1000;
  recent("the token's iat", claims.iat, nowS);
  const latest = Math.max(Math.floor(Date.parse(r.expiresAt) / 1000), deny ? Math.ceil(nowS) + CLOCK_SKEW_S : 0);
  if (typeof claims.exp !== 'number' || claims.exp > latest)
    throw new StatementRefused(`the token's exp ${show(claims.exp)} is after the request's expiry ${r.expiresAt}`);
  return { jti: claims.jti };
}

/** Reads DSSE's pre-authentication encoding "DSSEv1 LEN(type) type LEN(body) body" in full. */
export function readPae(message: Uint8Array): { payloadType: string; body: string } {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  const field = (): string => {
    const sp = message.indexOf(0x20, at);
    if (sp < 0) throw new StatementRefused('the evidence is not a DSSE pre-authentication encoding');
    const s = dec.decode(message.subarray(at, sp));
    at = sp + 1;
    return s;
  };
  const sized = (): Uint8Array => {
    const len = field();
    if (!/^(0|[1-9]\d*)$/.test(len)) throw new StatementRefused('the evidence is not a DSSE pre-authentication encoding');
    const part = message.subarray(at, at + Number(len));
    if (part.length !== Number(len)) throw new StatementRefused('the evidence is shorter than its encoding says');
    at += part.length;
    return part;
  };
  if (field() !== 'DSSEv1') throw new StatementRefused('the evidence is not a DSSE pre-authentication encoding');
  const payloadType = dec.decode(sized());
  if (message[at] !== 0x20) throw new StatementRefused('the evidence is not a DSSE pre-authentication encoding');
  at++;
  const body = dec.decode(sized());
  if (at !== message.length) throw new StatementRefused('the evidence has bytes after its payload');
  return { payloadType, body };
}

async function digestJson(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalize(value));
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * An evidence record (audit's EvidenceRecord, DSSE payload type evidence, canonical JSON) of the
 * act chosen: the approval document (audit evidence of gateway/approval-evidence.ts) or the
 * kill-switch document (gateway/kill-switch-file.ts), every field accounted for. `token` is the
 * approval or denial token this page signed for the act (null before one): the evidence must carry
 * exactly it. An approve the packs refuse is signed as `refused` evidence, without a token.
 */
export async function checkEvidence(
  message: Uint8Array,
  intent: Intent,
  keyId: string,
  token: { jwt: string; jti: string } | null,
  nowMs: number,
): Promise<void> {
  const { payloadType, body } = readPae(message);
  same('the payload type', payloadType, EVIDENCE_PAYLOAD_TYPE);
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    throw new StatementRefused('the evidence is not JSON');
  }
  // Canonical bytes only: no duplicate keys or other text that two readers could read differently.
  if (!isObject(record) || canonicalize(record) !== body) throw new StatementRefused('the evidence is not one canonical JSON object');
  keysAre('the evidence', record, [
    'kind',
    'id',
    'time',
    'tenantId',
    'traceId',
    'runId',
    'evidenceType',
    'digest',
    'subject',
    'summary',
    'document',
  ]);
  same('the evidence kind', record.kind, 'evidence');
  if (typeof record.id !== 'string' || !UUID.test(record.id)) throw new StatementRefused('the evidence id is not a UUID');
  const nowS = nowMs / 1000;
  recent('the evidence time', isoSeconds('the evidence time', record.time), nowS);
  same('the evidence traceId', record.traceId, null);
  same('the evidence runId', record.runId, null);
  const doc = record.document;
  if (!isObject(doc)) throw new StatementRefused('the evidence document is not an object');
  same('the evidence digest', record.digest, await digestJson(doc));
  recent("the document's at", isoSeconds("the document's at", doc.at), nowS);
  const summary = typeof record.summary === 'string' ? record.summary : '';

  if (intent.act === 'approval') {
    const r = intent.request;
    const decision = token ? intent.decision : 'refused';
    if (!token && intent.decision !== 'approve') throw new StatementRefused('a denial is signed as a token first');
    same('the evidence type', record.evidenceType, 'approval');
    same('the evidence subject', record.subject, `approval:${r.id}`);
    same('the evidence tenant', record.tenantId, r.tenant);
    const withToken = token ? ['tokenId', 'token'] : [];
    const withReason = decision !== 'approve' ? ['reason'] : [];
    keysAre('the approval document', doc, [
      'approvalId',
      'decision',
      'approver',
      'at',
      'keyId',
      ...withToken,
      ...withReason,
      'request',
      'statusAfter',
    ]);
    same('the decision', doc.decision, decision);
    same('the request id', doc.approvalId, r.id);
    same('the approver', doc.approver, intent.signer);
    same('the key', doc.keyId, keyId);
    if (token) {
      same('the token in the evidence', doc.token, token.jwt);
      same('the token id', doc.tokenId, token.jti);
    }
    if (decision === 'deny') same('the reason', doc.reason, intent.reason);
    else if (decision === 'refused' && (typeof doc.reason !== 'string' || !doc.reason))
      throw new StatementRefused('a refused approval names no reason');
    const { id: _id, ...request } = r;
    same('the request', doc.request, request);
    const after = { approve: ['pending', 'approved'], deny: ['denied'], refused: ['pending'] }[decision];
    if (!after.includes(doc.statusAfter as string))
      throw new StatementRefused(`the status after ${show(doc.statusAfter)} does not follow a ${decision}`);
    const verb = { approve: 'approved', deny: 'denied', refused: 'was refused approving' }[decision];
    const head = `${intent.signer} ${verb} ${r.tool} for ${r.tenant}/${r.agent} (request ${r.id}, args ${r.argsDigest}, `;
    if (!summary.startsWith(head)) throw new StatementRefused(`the summary ${show(summary)} does not say ${show(head)}`);
    return;
  }

  if (token) throw new StatementRefused('a kill-switch change signs no approval token');
  same('the evidence type', record.evidenceType, 'kill-switch');
  same('the evidence subject', record.subject, `kill-switch:${intent.kind}:${intent.id}`);
  same('the evidence tenant', record.tenantId, intent.kind === 'tenant' ? intent.id : null);
  const release = intent.action === 'release';
  keysAre('the kill-switch document', doc, ['kind', 'id', 'action', 'reason', 'by', 'at', ...(release ? ['engaged'] : [])]);
  same('the switch kind', doc.kind, intent.kind);
  same('the switch', doc.id, intent.id);
  same('the action', doc.action, intent.action);
  same('the reason', doc.reason, intent.reason);
  same('the signer', doc.by, intent.signer);
  if (release) same('the engagement released', doc.engaged, intent.engaged);
  const verb = release ? 'released' : 'engaged';
  same('the summary', summary, `${intent.signer} ${verb} the kill switch of ${intent.kind} '${intent.id}': ${intent.reason}`);
}
