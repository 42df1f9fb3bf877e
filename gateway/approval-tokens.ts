import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { keyIdOf, publicKeyFromPem, type TrustedKeysFile } from '../signing/index.js';
import type { ApprovalUse } from '../audit/index.js';
import type { ApprovalBinding } from './approvals.js';

const ISSUER = 'charter-approvals';

const TokenClaims = z.object({
  jti: z.string().uuid(),
  sub: z.string().min(1),
  approvalId: z.string().uuid(),
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

/**
 * An approval token is a JWT signed by the approver's own key (EdDSA for Ed25519, ES256 for
 * P-256), bound to tenant, agent, tool, the digest of the exact arguments, the approver and an
 * expiry; `jti` makes it single-use.
 */
export async function signApprovalToken(
  req: ApprovalBinding & { id: string },
  approver: string,
  key: KeyObject,
  expiresAtMs: number,
): Promise<SignedApprovalToken> {
  const keyId = keyIdOf(createPublicKey(key));
  const tokenId = uuidv7();
  const alg = key.asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256';
  const token = await new SignJWT({ approvalId: req.id, tenant: req.tenant, agent: req.agent, tool: req.tool, argsDigest: req.argsDigest })
    .setProtectedHeader({ alg, kid: keyId, typ: 'charter-approval+jwt' })
    .setIssuer(ISSUER)
    .setSubject(approver)
    .setJti(tokenId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAtMs / 1000))
    .sign(key);
  return { token, tokenId, keyId };
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

/**
 * Verifies approval tokens for one call. A token counts only when it verifies with a key the
 * trusted-keys file trusts for `approval`, the key's name is the approver it names (so one key
 * cannot pose as two approvers), it binds exactly this tenant, agent, tool and argument digest,
 * it has not expired, was not used, and its request was not denied.
 */
export async function verifyApprovalTokens(
  tokens: readonly string[],
  binding: ApprovalBinding,
  trusted: TrustedKeysFile,
  ledger: TokenLedger,
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
        { issuer: ISSUER, algorithms: ['EdDSA', 'ES256'], currentDate: new Date(nowMs), requiredClaims: ['exp', 'jti', 'sub'] },
      );
      const claims = TokenClaims.parse(payload);
      const mismatch = (['tenant', 'agent', 'tool', 'argsDigest'] as const).find((f) => claims[f] !== binding[f]);
      if (mismatch) throw new Error(`bound to ${mismatch} '${claims[mismatch]}', this call has '${binding[mismatch]}'`);
      if (claims.sub !== keyName) throw new Error(`names approver '${claims.sub}' but is signed by the key of '${keyName}'`);
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
