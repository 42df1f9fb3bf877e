import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { expect, test } from 'vitest';
import { IdentityVerifier } from './identity.js';

test('a JWKS file verifies platform tokens; issuer, audience and claim shape are enforced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'charter-idp-'));
  try {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] }));
    const verifier = IdentityVerifier.fromConfig({ jwks, issuer: 'https://idp', audience: 'gw' });
    const token = (claims: Record<string, unknown>, iss = 'https://idp') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'k1' }).setIssuer(iss).setAudience('gw').setExpirationTime('5m').sign(privateKey);
    await expect(verifier.verify(await token({ sub: 'u1', tenantId: 'acme', agentId: 'spot-bidding' }))).resolves.toEqual({
      principal: 'u1',
      tenantId: 'acme',
      agentId: 'spot-bidding',
    });
    await expect(verifier.verify(await token({ sub: 'u1', tenantId: 'acme', agentId: 'a' }, 'https://evil'))).rejects.toThrow(/ERR_JWT_CLAIM_VALIDATION_FAILED/);
    await expect(verifier.verify(await token({ sub: 'u1', agentId: 'a', 'custom:tenantId': 'acme' }))).rejects.toThrow(/tenantId/);
    expect(() => IdentityVerifier.fromConfig({ jwks: join(dir, 'missing.json'), issuer: 'i', audience: 'a' })).toThrow(/JWKS file not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
