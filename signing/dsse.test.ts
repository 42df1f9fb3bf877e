import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import {
  LocalKeySigner,
  canonicalJson,
  digestJson,
  generateEd25519Key,
  loadPrivateKey,
  pae,
  signEnvelope,
  trustedKeyFromPublicKey,
  verifyEnvelope,
  type TrustedKeysFile,
} from './index.js';

const TYPE = 'application/vnd.charter.test+json';

function keyPair(purposes: Parameters<typeof trustedKeyFromPublicKey>[2] = ['manifest']) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = new LocalKeySigner(privateKey);
  return { signer, trusted: trustedKeyFromPublicKey(publicKey, 'k', purposes) };
}

describe('canonical JSON', () => {
  it('sorts keys and is independent of insertion order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(digestJson({ a: 1, b: 2 })).toBe(digestJson({ b: 2, a: 1 }));
  });
});

describe('DSSE', () => {
  it('PAE matches the DSSE v1 specification encoding', () => {
    // Example from the DSSE protocol description: type "http://example.com/HelloWorld", body "hello world".
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('verifies a signed payload and reports the signing key', async () => {
    const { signer, trusted } = keyPair();
    const env = await signEnvelope(TYPE, Buffer.from('{"a":1}'), [signer]);
    const out = verifyEnvelope(env, { keys: [trusted] }, { payloadType: TYPE, purpose: 'manifest' });
    expect(out.payload.toString()).toBe('{"a":1}');
    expect(out.signedBy.map((k) => k.keyId)).toEqual([signer.keyId]);
  });

  it('rejects a payload changed by one byte', async () => {
    const { signer, trusted } = keyPair();
    const env = await signEnvelope(TYPE, Buffer.from('{"amount":100}'), [signer]);
    const tampered = { ...env, payload: Buffer.from('{"amount":900}').toString('base64') };
    expect(() => verifyEnvelope(tampered, { keys: [trusted] }, { payloadType: TYPE, purpose: 'manifest' })).toThrow(/0 valid signature/);
  });

  it('rejects an unknown key, a key trusted for another purpose, and a wrong payload type', async () => {
    const a = keyPair(['audit-checkpoint']);
    const b = keyPair();
    const env = await signEnvelope(TYPE, Buffer.from('x'), [a.signer]);
    const trusted: TrustedKeysFile = { keys: [a.trusted] };
    try {
      verifyEnvelope(env, trusted, { payloadType: TYPE, purpose: 'manifest' });
      expect.unreachable();
    } catch (err) {
      expect((err as { details: string[] }).details.join()).toMatch(/not trusted for manifest/);
    }
    expect(() => verifyEnvelope(env, { keys: [b.trusted] }, { payloadType: TYPE, purpose: 'manifest' })).toThrow(/0 valid/);
    expect(() => verifyEnvelope(env, trusted, { payloadType: 'other', purpose: 'audit-checkpoint' })).toThrow(/payloadType/);
  });

  it('counts distinct keys towards a threshold', async () => {
    const a = keyPair();
    const b = keyPair();
    const trusted = { keys: [a.trusted, b.trusted] };
    const once = await signEnvelope(TYPE, Buffer.from('x'), [a.signer, a.signer]);
    expect(() => verifyEnvelope(once, trusted, { payloadType: TYPE, purpose: 'manifest', threshold: 2 })).toThrow(/2 required/);
    const twice = await signEnvelope(TYPE, Buffer.from('x'), [a.signer, b.signer]);
    expect(verifyEnvelope(twice, trusted, { payloadType: TYPE, purpose: 'manifest', threshold: 2 }).signedBy).toHaveLength(2);
  });
});

describe('key files', () => {
  it('generates a key pair that loads back and never overwrites a private key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'charter-keys-'));
    const g = generateEd25519Key(dir, 'release', ['manifest']);
    const signer = new LocalKeySigner(loadPrivateKey(g.privateKeyFile));
    expect(signer.keyId).toBe(g.trusted.keyId);
    expect(() => generateEd25519Key(dir, 'release', ['manifest'])).toThrow(/refusing to overwrite/);
  });
});
