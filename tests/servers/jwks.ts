import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface TokenClaims {
  sub: string;
  tenantId: string;
  agentId: string;
}

export interface JwksServer {
  /** The JWKS URL the gateway is configured with. */
  url: string;
  /** The OIDC discovery document's URL (issuer and jwks_uri), as AgentCore's CUSTOM_JWT authorizer is configured. */
  discoveryUrl: string;
  issuer: string;
  audience: string;
  /** A token the platform would issue (signed by the served key). */
  issue(claims: TokenClaims & Record<string, unknown>, opts?: { expiresIn?: string; issuer?: string; audience?: string }): Promise<string>;
  /** A token signed by a key the JWKS does not hold (a forgery). */
  forge(claims: TokenClaims): Promise<string>;
  close(): Promise<void>;
}

/**
 * A local identity provider for tests: serves an Ed25519 JWKS over HTTP on loopback, as
 * Cognito serves /.well-known/jwks.json, and signs tokens with the normalised claims.
 */
export async function startJwksServer(issuer = 'https://idp.charter.test', audience = 'charter-gateway'): Promise<JwksServer> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const rogue = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'EdDSA', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  let discovery = '';
  const http = createServer((req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(req.url === '/.well-known/openid-configuration' ? discovery : body),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  discovery = JSON.stringify({ issuer, jwks_uri: `http://127.0.0.1:${port}/.well-known/jwks.json` });
  const sign = (key: CryptoKey, claims: Record<string, unknown>, opts: { expiresIn?: string; issuer?: string; audience?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'idp-1' })
      .setIssuer(opts.issuer ?? issuer)
      .setAudience(opts.audience ?? audience)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? '10m')
      .sign(key);
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    discoveryUrl: `http://127.0.0.1:${port}/.well-known/openid-configuration`,
    issuer,
    audience,
    issue: (claims, opts) => sign(privateKey, claims, opts),
    forge: (claims) => sign(rogue.privateKey, { ...claims }),
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}
