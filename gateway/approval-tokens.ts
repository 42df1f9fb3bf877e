import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { FindingError } from '../common/index.js';
import {
  keyIdOf,
  LocalKeySigner,
  publicKeyFromPem,
  type KeyPurpose,
  type Signer,
  type TrustedKey,
  type TrustedKeysFile,
} from '../signing/index.js';
import type { ApprovalUse } from '../audit/index.js';
import type { ApprovalBinding } from './approvals.js';

const ISSUER = 'charter-approvals';
const APPROVAL_TYP = 'charter-approval+jwt';
const DENIAL_TYP = 'charter-denial+jwt';

const TokenClaims = z.object({
  jti: z.string().uuid(),
  sub: z.string().min(1),
  approvalId: z.string().uuid(),
  /** Who asked for the approval: never the approver. */
  requestedBy: z.string().min(1),
  tenant: z.string().min(1),
  agent: z.string().min(1),
  tool: z.string().min(1),
  argsDigest: z.string(),
  exp: z.number(),
});

export interface SignedApprovalToken {
  token: string;
  tokenId: string;
  keyId: string;
}

/** The protected header and claims of an approval or denial token, before signing. */
export interface ActToken {
  header: { alg: 'EdDSA' | 'ES256'; kid: string; typ: string };
  claims: Record<string, string | number>;
}

/**
 * An approver: the name the trusted-keys file gives their key for the `approval` purpose, and
 * what signs for them: `signToken` signs a token's header and claims as a JWT (jose's SignJWT,
 * with a key held here or in the approver's browser), `signer` signs the act's evidence.
 */
export interface ApproverKey {
  name: string;
  keyId: string;
  signer: Signer;
  signToken(token: ActToken): Promise<string>;
}

/**
 * Who a key is, by its key id: its entry in the trusted-keys file, which must trust it for
 * `approval` (or another of `purposes`: an operator engaging a kill switch). The name comes from
 * that entry, never from the person at the keyboard.
 */
export function trustedActor(keyId: string, trusted: TrustedKeysFile, purposes: KeyPurpose[] = ['approval']): TrustedKey {
  const entry = trusted.keys.find((k) => k.keyId === keyId);
  if (!entry) throw new FindingError(`key ${keyId.slice(0, 16)}… is not in the trusted-keys file: it vouches for nothing`);
  if (!entry.purposes.some((p) => purposes.includes(p)))
    throw new FindingError(
      `key '${entry.name}' (${keyId.slice(0, 16)}…) is trusted for ${entry.purposes.join(', ')}, not for ${purposes.join(' or ')}`,
    );
  return entry;
}

/** An approver whose private key is held in this process, under `name`. */
export function localApprover(name: string, key: KeyObject): ApproverKey {
  const signer = new LocalKeySigner(key);
  return {
    name,
    keyId: signer.keyId,
    signer,
    signToken: ({ header, claims }) => new SignJWT(claims).setProtectedHeader(header).sign(key),
  };
}

/** A private key as an approver: the name is the one the trusted-keys file gives it (trustedActor). */
export function approverKey(key: KeyObject, trusted: TrustedKeysFile, purposes: KeyPurpose[] = ['approval']): ApproverKey {
  return localApprover(trustedActor(keyIdOf(createPublicKey(key)), trusted, purposes).name, key);
}

type ActRequest = ApprovalBinding & { id: string; requestedBy: string };

/** What an approver signs for a request: the token's header and claims (a fresh `jti`, `iat` now). */
export function actToken(
  typ: string,
  req: ActRequest,
  approver: Pick<ApproverKey, 'name' | 'keyId' | 'signer'>,
  expiresAtMs: number,
  extra: Record<string, string> = {},
): ActToken {
  return {
    header: { alg: approver.signer.algorithm === 'ed25519' ? 'EdDSA' : 'ES256', kid: approver.keyId, typ },
    claims: {
      approvalId: req.id,
      requestedBy: req.requestedBy,
      tenant: req.tenant,
      agent: req.agent,
      tool: req.tool,
      argsDigest: req.argsDigest,
      ...extra,
      iss: ISSUER,
      sub: approver.name,
      jti: uuidv7(),
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(expiresAtMs / 1000),
    },
  };
}

async function signAct(
  typ: string,
  req: ActRequest,
  approver: ApproverKey,
  expiresAtMs: number,
  extra: Record<string, string> = {},
): Promise<SignedApprovalToken> {
  const prepared = actToken(typ, req, approver, expiresAtMs, extra);
  const token = await approver.signToken(prepared);
  return { token, tokenId: String(prepared.claims.jti), keyId: approver.keyId };
}

/**
 * An approval token is a JWT signed by the approver's own key (EdDSA for Ed25519, ES256 for
 * P-256), bound to tenant, agent, tool, the digest of the exact arguments, the requester, the
 * approver and an expiry; `jti` makes it single-use.
 */
export function signApprovalToken(req: ActRequest, approver: ApproverKey, expiresAtMs: number): Promise<SignedApprovalToken> {
  return signAct(APPROVAL_TYP, req, approver, expiresAtMs);
}

/**
 * A denial is signed like an approval (its own `typ`, so it can never pass as one) and carries
 * the reason: the trail shows who refused, provably.
 */
export function signDenialToken(req: ActRequest, approver: ApproverKey, reason: string, expiresAtMs: number): Promise<SignedApprovalToken> {
  return signAct(DENIAL_TYP, req, approver, expiresAtMs, { reason });
}

/** What a token store must answer for verification (ApprovalStore does). */
export interface TokenLedger {
  isUsed(tokenId: string): boolean;
  isWithdrawn(approvalId: string): boolean;
}

export interface VerifiedApprovals {
  /** One entry a distinct approver with a valid token (a second token of one approver does not count). */
  approvals: z.infer<typeof ApprovalUse>[];
  tokenIds: string[];
  /** Why a presented token did not count. */
  problems: string[];
}

/** Why an approver may not approve the call being verified (approvalRefusal), or undefined when they may. */
export type ApproverScope = (approver: string) => string | undefined;

/**
 * Verifies approval tokens for one call. A token counts only when it verifies with a key the
 * trusted-keys file trusts for `approval`, the key's name is the approver it names (so one key
 * cannot pose as two approvers), the approver is neither the request's requester nor the caller
 * (`requester`, the verified principal of the call), the packs let that approver approve this
 * call (`scope`: tenant, spend limit, role), it binds exactly this tenant, agent, tool and
 * argument digest, it has not expired, was not used, and its request was not denied.
 */
export async function verifyApprovalTokens(
  tokens: readonly string[],
  binding: ApprovalBinding,
  trusted: TrustedKeysFile,
  ledger: TokenLedger,
  requester: string,
  scope: ApproverScope,
  nowMs = Date.now(),
): Promise<VerifiedApprovals> {
  const byApprover = new Map<string, { use: z.infer<typeof ApprovalUse>; tokenId: string }>();
  const problems: string[] = [];
  for (const [i, token] of tokens.entries()) {
    const label = `approval token ${i + 1}`;
    let keyName = '';
    try {
      const { payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          const key = trusted.keys.find((k) => k.keyId === header.kid && k.purposes.includes('approval'));
          if (!key) throw new Error(`signed by a key not trusted for approval (${String(header.kid).slice(0, 12)})`);
          keyName = key.name;
          return publicKeyFromPem(key.publicKeyPem, `trusted key ${key.name}`);
        },
        {
          issuer: ISSUER,
          typ: APPROVAL_TYP,
          algorithms: ['EdDSA', 'ES256'],
          currentDate: new Date(nowMs),
          requiredClaims: ['exp', 'jti', 'sub'],
        },
      );
      const claims = TokenClaims.parse(payload);
      const mismatch = (['tenant', 'agent', 'tool', 'argsDigest'] as const).find((f) => claims[f] !== binding[f]);
      if (mismatch) throw new Error(`bound to ${mismatch} '${claims[mismatch]}', this call has '${binding[mismatch]}'`);
      if (claims.sub !== keyName) throw new Error(`names approver '${claims.sub}' but is signed by the key of '${keyName}'`);
      for (const asker of new Set([claims.requestedBy, requester]))
        if (claims.sub === asker) throw new Error(`approver '${claims.sub}' is the requester: no one approves their own call`);
      const refused = scope(claims.sub);
      if (refused) throw new Error(refused);
      if (ledger.isUsed(claims.jti)) throw new Error('already used');
      if (ledger.isWithdrawn(claims.approvalId)) throw new Error(`request ${claims.approvalId} was denied or expired`);
      if (!byApprover.has(claims.sub))
        byApprover.set(claims.sub, { use: { approvalId: claims.approvalId, approver: claims.sub }, tokenId: claims.jti });
      else problems.push(`${label}: a second token of approver '${claims.sub}' (approvers must be distinct)`);
    } catch (err) {
      problems.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const valid = [...byApprover.values()];
  return { approvals: valid.map((v) => v.use), tokenIds: valid.map((v) => v.tokenId), problems };
}
