import { existsSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { FindingError, InputError, readJson } from '../common/index.js';

/**
 * Inbound identity. The platform (e.g. a Cognito pre-token-generation hook) sets two
 * normalised claims the caller cannot assert: `tenantId` (the only source of tenant identity)
 * and `agentId` (which agent manifest governs the caller). `sub` is the principal the agent
 * acts as.
 */
export interface CallerIdentity {
  principal: string;
  tenantId: string;
  agentId: string;
}

export interface IdentityConfig {
  /** A JWKS URL (https?://...) or a JWKS JSON file. */
  jwks: string;
  issuer: string;
  audience: string;
  /** Verified tokens kept (until their expiry) so a repeated token is not verified again; 0: none. Default 4,096. */
  cacheSize?: number;
}

const DEFAULT_CACHE_SIZE = 4096;

/** The form of a tenant or agent id: what identity claims carry and what operators' ids normalise to. */
export const NORMALISED_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** An operator-typed tenant or agent id in the form claims carry (trimmed, lower case); the caller checks it against the ids it knows. */
export function normaliseId(raw: string): string {
  return raw.trim().toLowerCase();
}

const Claims = z.object({
  sub: z.string().min(1, 'sub claim is empty'),
  exp: z.number(),
  tenantId: z.string().regex(NORMALISED_ID, 'tenantId claim must be a normalised tenant id'),
  agentId: z.string().regex(NORMALISED_ID, 'agentId claim must be a normalised agent name'),
});

const JwksFile = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1, 'JWKS has no keys') });

// Asymmetric algorithms only: a shared-secret token would let any holder of the secret mint identities.
const ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'PS256'];

/**
 * Verifies caller tokens. A verified token is remembered until its `exp` (bounded, oldest
 * dropped first): an agent sends the same token with every MCP request of an invocation, and
 * signature, JWKS lookup and claim checks need not run again for it. A token that fails is
 * never remembered. The price: a signing key removed from the JWKS stops new tokens at once,
 * but tokens it already signed and this gateway already saw pass until they expire.
 */
export class IdentityVerifier {
  private readonly verified = new Map<string, { identity: CallerIdentity; expiresAtMs: number }>();
  private readonly cacheSize: number;

  private constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly config: IdentityConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.cacheSize = config.cacheSize ?? DEFAULT_CACHE_SIZE;
  }

  /** Verified tokens held now (at most `cacheSize`). */
  get rememberedTokens(): number {
    return this.verified.size;
  }

  /** `now`: the clock expiry is judged by (tests move it). */
  static fromConfig(config: IdentityConfig, now: () => number = Date.now): IdentityVerifier {
    if (/^https?:\/\//.test(config.jwks)) return new IdentityVerifier(createRemoteJWKSet(new URL(config.jwks)), config, now);
    if (!existsSync(config.jwks)) throw new InputError('JWKS file not found', { file: config.jwks });
    const jwks = readJson(config.jwks, JwksFile) as JSONWebKeySet;
    return new IdentityVerifier(createLocalJWKSet(jwks), config, now);
  }

  /** Verifies signature, issuer, audience and expiry; a failure is a FindingError saying which check failed. */
  async verify(token: string): Promise<CallerIdentity> {
    const known = this.verified.get(token);
    if (known) {
      if (this.now() < known.expiresAtMs) return known.identity;
      this.verified.delete(token);
    }
    const claims = await this.verifyClaims(token, Claims);
    const identity = { principal: claims.sub, tenantId: claims.tenantId, agentId: claims.agentId };
    this.remember(token, identity, claims.exp * 1000);
    return identity;
  }

  /**
   * The same checks as `verify` (signature by a JWKS key, issuer, audience, expiry, asymmetric
   * algorithms only), with the payload read by the caller's own claim schema: other surfaces
   * (the console's role and tenant scope) sign in through this code, not a copy of it.
   * Nothing is remembered.
   */
  async verifyClaims<T>(token: string, schema: z.ZodType<T>): Promise<T> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        currentDate: new Date(this.now()),
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const why = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : String(err);
      throw new FindingError(`token rejected (${why})`);
    }
    const claims = schema.safeParse(payload);
    if (!claims.success) {
      const issue = claims.error.issues[0]!;
      throw new FindingError(`token rejected (${issue.path.join('.') || 'claims'}: ${issue.message})`);
    }
    return claims.data;
  }

  private remember(token: string, identity: CallerIdentity, expiresAtMs: number): void {
    if (this.cacheSize <= 0) return;
    if (this.verified.size >= this.cacheSize) {
      // Expired entries go first; if none, the oldest (Map keeps insertion order).
      const now = this.now();
      for (const [t, v] of this.verified) if (v.expiresAtMs <= now) this.verified.delete(t);
      if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, { identity, expiresAtMs });
  }
}
