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

test('a verified token is remembered until it expires; the cache is bounded; failures are not remembered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'charter-idp-'));
  try {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] }));
    let now = Date.now();
    const verifier = IdentityVerifier.fromConfig({ jwks, issuer: 'https://idp', audience: 'gw', cacheSize: 2 }, () => now);
    const token = (sub: string, exp = Math.floor(now / 1000) + 60) =>
      new SignJWT({ tenantId: 'acme', agentId: 'spot-bidding' }).setProtectedHeader({ alg: 'EdDSA', kid: 'k1' }).setSubject(sub).setIssuer('https://idp').setAudience('gw').setExpirationTime(exp).sign(privateKey);
    const a = await token('a');
    expect((await verifier.verify(a)).principal).toBe('a');
    expect((await verifier.verify(a)).principal).toBe('a');
    expect(verifier.rememberedTokens).toBe(1);
    // Past its exp a remembered token is verified again, and refused.
    now += 61_000;
    await expect(verifier.verify(a)).rejects.toThrow(/ERR_JWT_EXPIRED/);
    expect(verifier.rememberedTokens).toBe(0);
    // Bounded: a third token evicts the oldest. A tampered token is never remembered.
    const [b, c, d] = [await token('b'), await token('c'), await token('d')];
    for (const t of [b, c, d]) await verifier.verify(t);
    expect(verifier.rememberedTokens).toBe(2);
    const [head, payload, sig] = d.split('.');
    const forged = [head, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tenantId: 'globex' })).toString('base64url'), sig].join('.');
    await expect(verifier.verify(forged)).rejects.toThrow(/token rejected/);
    await expect(verifier.verify(forged)).rejects.toThrow(/token rejected/);
    expect(verifier.rememberedTokens).toBe(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
