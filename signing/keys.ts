import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, readJson, readText, writeFileAtomic } from '../common/index.js';
import { sha256Hex } from './canonical.js';

export const SignatureAlgorithm = z.enum(['ed25519', 'ecdsa-p256-sha256']);
export type SignatureAlgorithm = z.infer<typeof SignatureAlgorithm>;

/**
 * What a key may vouch for. A verifier asks for one purpose, so a key trusted for audit
 * checkpoints is not thereby trusted to sign manifests.
 */
export const KeyPurpose = z.enum([
  'manifest',
  'audit-checkpoint',
  'eval-report',
  'release-record',
  'approval',
  'agent-envelope',
  // Operators' acts that need no approver (engaging a kill switch), signed so the trail can attribute them.
  'operator',
  // An audit witness's cosignatures of checkpoints (C2SP tlog-cosignature): never the log's own key.
  'witness',
]);
export type KeyPurpose = z.infer<typeof KeyPurpose>;

export const TrustedKey = z.object({
  keyId: z.string().regex(/^[0-9a-f]{64}$/, 'keyId must be the hex SHA-256 of the DER public key'),
  name: z.string().min(1),
  algorithm: SignatureAlgorithm,
  publicKeyPem: z.string().includes('BEGIN PUBLIC KEY', { message: 'publicKeyPem must be a PEM SPKI public key' }),
  purposes: z.array(KeyPurpose).min(1),
});
export type TrustedKey = z.infer<typeof TrustedKey>;

export const TrustedKeysFile = z.object({ keys: z.array(TrustedKey) });
export type TrustedKeysFile = z.infer<typeof TrustedKeysFile>;

/** Key id: hex SHA-256 of the DER-encoded SubjectPublicKeyInfo (as TUF and sigstore do). */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

export function algorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256-sha256';
  throw new InputError(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (use Ed25519 or ECDSA P-256)`);
}

export function trustedKeyFromPublicKey(publicKey: KeyObject, name: string, purposes: KeyPurpose[]): TrustedKey {
  return {
    keyId: keyIdOf(publicKey),
    name,
    algorithm: algorithmOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    purposes,
  };
}

export interface GeneratedKey {
  privateKeyFile: string;
  publicKeyFile: string;
  trusted: TrustedKey;
}

/**
 * Generates an Ed25519 key pair as `<name>.key.pem` (PKCS#8, mode 0600) and `<name>.pub.pem`.
 * Refuses to overwrite an existing private key: losing a signing key silently is worse than an error.
 */
export function generateEd25519Key(dir: string, name: string, purposes: KeyPurpose[]): GeneratedKey {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new InputError(`invalid key name '${name}' (letters, digits, . _ -)`);
  const privateKeyFile = join(dir, `${name}.key.pem`);
  const publicKeyFile = join(dir, `${name}.pub.pem`);
  if (existsSync(privateKeyFile)) throw new InputError('refusing to overwrite an existing private key', { file: privateKeyFile });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileAtomic(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  writeFileAtomic(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  return { privateKeyFile, publicKeyFile, trusted: trustedKeyFromPublicKey(publicKey, name, purposes) };
}

export function loadPrivateKey(file: string): KeyObject {
  try {
    const key = createPrivateKey(readText(file));
    algorithmOf(key);
    return key;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('not a PEM private key (expected PKCS#8 Ed25519 or P-256)', { file });
  }
}

export function publicKeyFromPem(pem: string, where: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new InputError('not a PEM public key', { file: where });
  }
}

/** Loads a trusted-keys file, checking that every key id matches its public key. */
export function loadTrustedKeys(file: string): TrustedKeysFile {
  const parsed = readJson(file, TrustedKeysFile);
  parsed.keys.forEach((k, i) => {
    const actual = keyIdOf(publicKeyFromPem(k.publicKeyPem, file));
    if (actual !== k.keyId) {
      throw new InputError(`keyId does not match the public key (computed ${actual})`, { file, field: `keys[${i}].keyId` });
    }
  });
  return parsed;
}

/** Adds or replaces keys (by key id) in a trusted-keys file, creating it when missing. */
export function addTrustedKeys(file: string, keys: TrustedKey[]): TrustedKeysFile {
  const current = existsSync(file) ? loadTrustedKeys(file) : { keys: [] };
  const byId = new Map(current.keys.map((k) => [k.keyId, k]));
  for (const k of keys) byId.set(k.keyId, k);
  const next = { keys: [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.keyId.localeCompare(b.keyId)) };
  writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
  return next;
}
