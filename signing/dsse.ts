import { z } from 'zod';
import { FindingError, InputError, parseJson, validateWith } from '../common/index.js';
import type { KeyPurpose, TrustedKeysFile, TrustedKey } from './keys.js';
import { verifyWithKey, type Signer } from './signer.js';

/**
 * DSSE (Dead Simple Signing Envelope), the envelope in-toto and sigstore use: the signature
 * covers PAE(payloadType, payload), so a payload cannot be re-interpreted as another type.
 */
export const DsseEnvelope = z.object({
  payloadType: z.string().min(1),
  payload: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'payload must be standard base64'),
  signatures: z.array(z.object({ keyid: z.string(), sig: z.string().min(1) })).min(1, 'envelope has no signatures'),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelope>;

/** Pre-Authentication Encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export async function signEnvelope(payloadType: string, payload: Uint8Array, signers: Signer[]): Promise<DsseEnvelope> {
  const message = pae(payloadType, payload);
  const signatures = [];
  for (const signer of signers) {
    signatures.push({ keyid: signer.keyId, sig: Buffer.from(await signer.sign(message)).toString('base64') });
  }
  return { payloadType, payload: Buffer.from(payload).toString('base64'), signatures };
}

export interface VerifiedEnvelope {
  payload: Buffer;
  /** The trusted keys whose signatures verified. */
  signedBy: TrustedKey[];
}

export interface VerifyOptions {
  payloadType: string;
  purpose: KeyPurpose;
  /** How many distinct trusted keys must have signed (default 1). */
  threshold?: number;
}

/**
 * Verifies an envelope against trusted keys. Fails (exit 1) with a message that says which
 * check failed: payload type, unknown key, key not trusted for this purpose, or a signature
 * that does not verify over the payload.
 */
export function verifyEnvelope(envelope: DsseEnvelope, trusted: TrustedKeysFile, opts: VerifyOptions): VerifiedEnvelope {
  if (envelope.payloadType !== opts.payloadType) {
    throw new FindingError(`payloadType is '${envelope.payloadType}', expected '${opts.payloadType}'`);
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, payload);
  const problems: string[] = [];
  const signedBy = new Map<string, TrustedKey>();
  for (const { keyid, sig } of envelope.signatures) {
    const key = trusted.keys.find((k) => k.keyId === keyid);
    if (!key) {
      problems.push(`signature by unknown key ${keyid}`);
      continue;
    }
    if (!key.purposes.includes(opts.purpose)) {
      problems.push(`key ${key.name} (${keyid.slice(0, 12)}) is not trusted for ${opts.purpose}`);
      continue;
    }
    if (!verifyWithKey(key, message, Buffer.from(sig, 'base64'))) {
      problems.push(`signature by key ${key.name} (${keyid.slice(0, 12)}) does not verify over the payload`);
      continue;
    }
    signedBy.set(key.keyId, key);
  }
  const threshold = opts.threshold ?? 1;
  if (signedBy.size < threshold) {
    throw new FindingError(
      `envelope has ${signedBy.size} valid signature(s) from trusted ${opts.purpose} keys, ${threshold} required`,
      undefined,
      problems,
    );
  }
  return { payload, signedBy: [...signedBy.values()] };
}

/** Parses envelope JSON text; malformed input is an InputError (exit 2) naming the file. */
export function parseEnvelope(text: string, file: string): DsseEnvelope {
  const value = parseJson(text, file);
  if (typeof value !== 'object' || value === null) throw new InputError('not a DSSE envelope', { file });
  return validateWith(DsseEnvelope, value, file);
}
