import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { IdentityVerifier } from './identity.js';

// A JWKS file with one Ed25519 key (kid k1) in a fresh folder, and its private half.
let dir: string;
let jwks: string;
let privateKey: CryptoKey;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'charter-idp-'));
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  privateKey = pair.privateKey;
  jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' }] }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a JWKS file verifies platform tokens; issuer, audience and claim shape are enforced', async () => {
  const verifier = IdentityVerifier.fromConfig({ jwks, issuer: 'https://idp', audience: 'gw' });
  const token = (claims: Record<string, unknown>, iss = 'https://idp') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(iss)
      .setAudience('gw')
      .setExpirationTime('5m')
      .sign(privateKey);
  await expect(verifier.verify(await token({ sub: 'u1', tenantId: 'acme', agentId: 'spot-bidding' }))).resolves.toEqual({
    principal: 'u1',
    tenantId: 'acme',
    agentId: 'spot-bidding',
  });
  await expect(verifier.verify(await token({ sub: 'u1', tenantId: 'acme', agentId: 'a' }, 'https://evil'))).rejects.toThrow(
    /ERR_JWT_CLAIM_VALIDATION_FAILED/,
  );
  await expect(verifier.verify(await token({ sub: 'u1', agentId: 'a', 'custom:tenantId': 'acme' }))).rejects.toThrow(/tenantId/);
  expect(() => IdentityVerifier.fromConfig({ jwks: join(dir, 'missing.json'), issuer: 'i', audience: 'a' })).toThrow(/JWKS file not found/);
});

test('a verified token is remembered until it expires; the cache is bounded; failures are not remembered', async () => {
  let now = Date.now();
  const verifier = IdentityVerifier.fromConfig({ jwks, issuer: 'https://idp', audience: 'gw', cacheSize: 2 }, () => now);
  const token = (sub: string, exp = Math.floor(now / 1000) + 60) =>
    new SignJWT({ tenantId: 'acme', agentId: 'spot-bidding' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject(sub)
      .setIssuer('https://idp')
      .setAudience('gw')
      .setExpirationTime(exp)
      .sign(privateKey);
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
  const forged = [
    head,
    Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tenantId: 'globex' })).toString('base64url'),
    sig,
  ].join('.');
  await expect(verifier.verify(forged)).rejects.toThrow(/token rejected/);
  await expect(verifier.verify(forged)).rejects.toThrow(/token rejected/);
  expect(verifier.rememberedTokens).toBe(2);
});
