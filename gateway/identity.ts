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
}

const Claims = z.object({
  sub: z.string().min(1, 'sub claim is empty'),
  tenantId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenantId claim must be a normalised tenant id'),
  agentId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'agentId claim must be a normalised agent name'),
});

const JwksFile = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1, 'JWKS has no keys') });

// Asymmetric algorithms only: a shared-secret token would let any holder of the secret mint identities.
const ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'PS256'];

export class IdentityVerifier {
  private constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly config: IdentityConfig,
  ) {}

  static fromConfig(config: IdentityConfig): IdentityVerifier {
    if (/^https?:\/\//.test(config.jwks)) return new IdentityVerifier(createRemoteJWKSet(new URL(config.jwks)), config);
    if (!existsSync(config.jwks)) throw new InputError('JWKS file not found', { file: config.jwks });
    const jwks = readJson(config.jwks, JwksFile) as JSONWebKeySet;
    return new IdentityVerifier(createLocalJWKSet(jwks), config);
  }

  /** Verifies signature, issuer, audience and expiry; a failure is a FindingError saying which check failed. */
  async verify(token: string): Promise<CallerIdentity> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const why = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : String(err);
      throw new FindingError(`token rejected (${why})`);
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) {
      const issue = claims.error.issues[0]!;
      throw new FindingError(`token rejected (${issue.path.join('.') || 'claims'}: ${issue.message})`);
    }
    return { principal: claims.data.sub, tenantId: claims.data.tenantId, agentId: claims.data.agentId };
  }
}
