import { createHash, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { KMSClient, KMSClientConfig } from '@aws-sdk/client-kms';
import { CharterError, ExitCode } from '../common/index.js';
import { algorithmOf, keyIdOf, publicKeyFromPem, type SignatureAlgorithm, type TrustedKey } from './keys.js';

/** Anything that can sign bytes: a local key file or a KMS key. */
export interface Signer {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: KeyObject;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Signer over a private key held in this process (Ed25519 or P-256). */
export class LocalKeySigner implements Signer {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject) {
    this.algorithm = algorithmOf(privateKey);
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return this.signSync(data);
  }

  /** Synchronous signing for hot paths (audit checkpoints, envelopes) where the key is local. */
  signSync(data: Uint8Array): Uint8Array {
    return nodeSign(this.algorithm === 'ed25519' ? null : 'sha256', data, this.privateKey);
  }
}

/**
 * Signer backed by an AWS KMS asymmetric key (key spec ECC_NIST_P256, ECDSA_SHA_256).
 * The private key never leaves KMS; the public key is fetched once with GetPublicKey so
 * verification needs no AWS call.
 */
export class KmsSigner implements Signer {
  readonly algorithm: SignatureAlgorithm = 'ecdsa-p256-sha256';

  private constructor(
    private readonly client: KMSClient,
    private readonly kmsKeyId: string,
    readonly publicKey: KeyObject,
    readonly keyId: string,
  ) {}

  // The AWS SDK loads only when a KMS key is used: verifying needs no AWS code (library users
  // importing the verifiers, every command signing with a local key).
  static async create(kmsKeyId: string, config: KMSClientConfig = {}): Promise<KmsSigner> {
    const { GetPublicKeyCommand, KMSClient } = await import('@aws-sdk/client-kms');
    const client = new KMSClient(config);
    const out = await client.send(new GetPublicKeyCommand({ KeyId: kmsKeyId }));
    if (!out.PublicKey) throw new CharterError(`KMS returned no public key for ${kmsKeyId}`, { exitCode: ExitCode.usage });
    if (out.KeySpec !== 'ECC_NIST_P256' || !out.SigningAlgorithms?.includes('ECDSA_SHA_256')) {
      throw new CharterError(`KMS key ${kmsKeyId} must be ECC_NIST_P256 with ECDSA_SHA_256 (got ${out.KeySpec ?? 'unknown'})`, {
        exitCode: ExitCode.usage,
      });
    }
    const publicKey = createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' });
    return new KmsSigner(client, kmsKeyId, publicKey, keyIdOf(publicKey));
  }

  /**
   * KMS takes at most 4096 bytes as a RAW message, and manifests are larger, so the SHA-256
   * digest is sent (MessageType DIGEST). The signature is the same ECDSA_SHA_256 signature
   * over the full message, verifiable without KMS.
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(data).digest();
    const { SignCommand } = await import('@aws-sdk/client-kms');
    const out = await this.client.send(
      new SignCommand({ KeyId: this.kmsKeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    if (!out.Signature) throw new CharterError(`KMS returned no signature for ${this.kmsKeyId}`);
    return out.Signature;
  }
}

/** Verifies a raw signature with a trusted key. ECDSA signatures are DER-encoded, as KMS returns them. */
export function verifyWithKey(key: TrustedKey, data: Uint8Array, signature: Uint8Array): boolean {
  const publicKey = publicKeyFromPem(key.publicKeyPem, `trusted key ${key.name}`);
  try {
    return nodeVerify(key.algorithm === 'ed25519' ? null : 'sha256', data, publicKey, signature);
  } catch {
    return false;
  }
}
