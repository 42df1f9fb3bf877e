import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { FindingError, InputError } from '../common/index.js';
import type { LocalKeySigner, TrustedKey, TrustedKeysFile } from '../signing/index.js';

/**
 * Checkpoints in the C2SP tlog-checkpoint format, signed as a C2SP signed note:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n      (the note text)
 *   \n
 *   — <key name> <base64(4-byte key id || Ed25519 signature over the note text)>\n
 *
 * The key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || raw public key), 0x01
 * being the Ed25519 signature type. Any tool that reads Go's sumdb/note or tlog checkpoints
 * can check a Charter checkpoint.
 */

export const EM_DASH = '\u2014';
const ED25519_TYPE = 0x01;

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Buffer;
  /** C2SP extension lines after the root hash (signed with it), e.g. the segment directory line. */
  extensions?: string[];
}

export interface VerifiedCheckpoint extends Checkpoint {
  extensions: string[];
  /** The trusted key whose signature verified. */
  signedBy: TrustedKey;
  /** Signature lines by keys we do not trust (kept for the report, not an error). */
  unknownSignatures: string[];
}

export function rawEd25519(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new InputError('checkpoint keys must be Ed25519');
  return Buffer.from(jwk.x, 'base64url');
}

/** C2SP note key id for an Ed25519 key under a key name; `type` 0x04 for tlog-cosignature/v1 cosignatures. */
export function noteKeyId(name: string, publicKey: KeyObject, type = ED25519_TYPE): Buffer {
  return createHash('sha256')
    .update(Buffer.from(name, 'utf8'))
    .update(Buffer.from([0x0a, type]))
    .update(rawEd25519(publicKey))
    .digest()
    .subarray(0, 4);
}

export function checkpointText(cp: Checkpoint): string {
  return `${cp.origin}\n${cp.treeSize}\n${cp.rootHash.toString('base64')}\n${(cp.extensions ?? []).map((l) => `${l}\n`).join('')}`;
}

export function validateOrigin(origin: string): string {
  // An origin is one line; a space would break the signature line grammar when used as key name.
  if (!/^[\x21-\x7e]+$/.test(origin))
    throw new InputError(`invalid checkpoint origin '${origin}' (printable ASCII, no spaces)`, { field: 'origin' });
  return origin;
}

/** Signs note text (ending in a newline) as a C2SP signed note with one Ed25519 signature. */
export function signNote(text: string, name: string, signer: LocalKeySigner): string {
  if (signer.algorithm !== 'ed25519') throw new InputError('audit checkpoints are signed with Ed25519 keys (C2SP signed note type 0x01)');
  const sig = signer.signSync(Buffer.from(text, 'utf8'));
  const blob = Buffer.concat([noteKeyId(name, signer.publicKey), sig]).toString('base64');
  return `${text}\n${EM_DASH} ${name} ${blob}\n`;
}

/** Signs a checkpoint; the key name is the origin, as transparency logs conventionally do. */
export function signCheckpoint(cp: Checkpoint, signer: LocalKeySigner): string {
  return signNote(checkpointText(cp), cp.origin, signer);
}

export interface NoteSignature {
  name: string;
  /** 4-byte key id followed by the signature bytes. */
  blob: Buffer;
  line: string;
}

/** Parses one signature line (`— <key name> <base64>`); undefined when it is not one. */
export function parseSignatureLine(line: string): NoteSignature | undefined {
  const m = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
  return m ? { name: m[1]!, blob: Buffer.from(m[2]!, 'base64'), line } : undefined;
}

/** Splits a signed note into its text and signature lines; malformed notes are findings. */
export function splitNote(note: string, where: string): { text: string; signatures: NoteSignature[] } {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new FindingError('signed note has no signature block', { file: where });
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const sig = parseSignatureLine(line);
      if (!sig) throw new FindingError(`malformed signature line '${line}'`, { file: where });
      return sig;
    });
  return { text: note.slice(0, split + 1), signatures };
}

/**
 * Opens a signed note: at least one signature line must carry the C2SP key id of a trusted
 * Ed25519 `audit-checkpoint` key under its name, and verify over the text.
 */
export function openNote(
  note: string,
  trusted: TrustedKeysFile,
  where: string,
): { text: string; signedBy: TrustedKey; unknownSignatures: string[] } {
  const { text, signatures } = splitNote(note, where);
  const candidates = trusted.keys.filter((k) => k.algorithm === 'ed25519' && k.purposes.includes('audit-checkpoint'));
  const unknown: string[] = [];
  for (const sig of signatures) {
    const keyHash = sig.blob.subarray(0, 4);
    const key = candidates.find((k) => noteKeyId(sig.name, createPublicKey(k.publicKeyPem)).equals(keyHash));
    if (!key) {
      unknown.push(sig.line);
      continue;
    }
    if (!nodeVerify(null, Buffer.from(text, 'utf8'), createPublicKey(key.publicKeyPem), sig.blob.subarray(4))) {
      throw new FindingError(`note signature by ${sig.name} (key ${key.name}) does not verify`, { file: where });
    }
    return { text, signedBy: key, unknownSignatures: unknown };
  }
  throw new FindingError(
    'note is not signed by any trusted audit-checkpoint key',
    { file: where },
    unknown.map((l) => `untrusted signature: ${l}`),
  );
}

/** Opens a signed checkpoint and parses its text: origin, tree size, root hash. */
export function verifyCheckpoint(note: string, trusted: TrustedKeysFile, where: string): VerifiedCheckpoint {
  const { text, signedBy, unknownSignatures } = openNote(note, trusted, where);
  return { ...parseCheckpointText(text, where), signedBy, unknownSignatures };
}

/** The extension lines of a note's text, unverified (verify checks the signature separately). */
export function noteExtensions(note: string): string[] {
  const split = note.indexOf('\n\n');
  return split < 0 ? [] : note.slice(0, split).split('\n').slice(3);
}

/** Origin, tree size, root hash and any non-empty extension lines of a checkpoint's note text. */
export function parseCheckpointText(text: string, where: string): Checkpoint & { extensions: string[] } {
  const [origin, size, root, ...rest] = text.split('\n');
  const extensions = rest.slice(0, -1);
  if (
    !origin ||
    !size ||
    !root ||
    !/^[1-9]\d*$/.test(size) ||
    !/^[A-Za-z0-9+/]{43}=$/.test(root) ||
    rest.at(-1) !== '' ||
    extensions.some((l) => l === '')
  ) {
    throw new FindingError('checkpoint text is not "<origin>\\n<tree size>\\n<base64 root hash>\\n[extension lines]"', { file: where });
  }
  return { origin, treeSize: Number(size), rootHash: Buffer.from(root, 'base64'), extensions };
}
