import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { FindingError, InputError } from '../common/index.js';
import type { LocalKeySigner, TrustedKeysFile } from '../signing/index.js';
import { EM_DASH, noteKeyId, parseSignatureLine, rawEd25519, splitNote, type NoteSignature } from './checkpoint.js';
import { padSize } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';

/**
 * Witness cosignatures in the C2SP tlog-cosignature format (Ed25519, `cosignature/v1`).
 *
 * A cosignature is a signed-note signature line by the witness's key over the checkpoint:
 *
 *   — <witness name> base64(key id || u64 big-endian timestamp || Ed25519 signature)
 *
 * with key id SHA-256(name || 0x0A || 0x04 || public key)[:4], and the signature over
 * "cosignature/v1\n" "time <timestamp>\n" followed by the checkpoint's note text (with its
 * extension lines, without signature lines). It says: as of that time, this is the largest
 * tree the witness has seen for the origin, consistent with everything it saw before.
 */

export const COSIGNATURE_TYPE = 0x04;
export const COSIGNATURES_PREFIX = 'cosignatures/';

/** A witness as verifiers are configured with it: name and Ed25519 public key. */
export interface WitnessKey {
  name: string;
  publicKey: KeyObject;
}

/** Which witnesses an auditor requires, and how many of them must have cosigned. */
export interface WitnessPolicy {
  witnesses: WitnessKey[];
  quorum: number;
}

export const cosignatureKeyId = (w: WitnessKey): Buffer => noteKeyId(w.name, w.publicKey, COSIGNATURE_TYPE);

/** The witness's C2SP verifier key: `<name>+<hex key id>+<base64(0x04 || public key)>`. */
export function vkeyOf(w: WitnessKey): string {
  const material = Buffer.concat([Buffer.from([COSIGNATURE_TYPE]), rawEd25519(w.publicKey)]);
  return `${w.name}+${cosignatureKeyId(w).toString('hex')}+${material.toString('base64')}`;
}

/** Parses a verifier key of type 0x04, checking that its key id matches name and key. */
export function parseVkey(text: string, where: string): WitnessKey {
  const m = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
  const material = m ? Buffer.from(m[3]!, 'base64') : Buffer.alloc(0);
  if (!m || material.length !== 33 || material[0] !== COSIGNATURE_TYPE)
    throw new InputError(`not a C2SP cosignature verifier key (<name>+<key id>+<base64 of 0x04 and an Ed25519 key>)`, { file: where });
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: material.subarray(1).toString('base64url') }, format: 'jwk' });
  const key = { name: m[1]!, publicKey };
  if (cosignatureKeyId(key).toString('hex') !== m[2])
    throw new InputError(`verifier key id ${m[2]} does not match its name and public key`, { file: where });
  return key;
}

/** The trusted-keys file's `witness` entries (key name = witness name). */
export function witnessKeysOf(trusted: TrustedKeysFile): WitnessKey[] {
  return trusted.keys
    .filter((k) => k.algorithm === 'ed25519' && k.purposes.includes('witness'))
    .map((k) => ({ name: k.name, publicKey: createPublicKey(k.publicKeyPem) }));
}

const signedMessage = (noteText: string, timestamp: bigint): Buffer =>
  Buffer.from(`cosignature/v1\ntime ${timestamp}\n${noteText}`, 'utf8');

/** Cosigns a checkpoint's note text at `timestamp` (POSIX seconds); returns the signature line without its newline. */
export function cosign(noteText: string, name: string, signer: LocalKeySigner, timestamp: number): string {
  if (signer.algorithm !== 'ed25519') throw new InputError('witness keys are Ed25519 (C2SP cosignature type 0x04)');
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  const sig = signer.signSync(signedMessage(noteText, BigInt(timestamp)));
  const blob = Buffer.concat([cosignatureKeyId({ name, publicKey: signer.publicKey }), time, sig]);
  return `${EM_DASH} ${name} ${blob.toString('base64')}`;
}

export type CosignatureStatus = { witness: string; valid: true; timestamp: number } | { witness: string; valid: false; line: string };

/**
 * Checks signature lines against the configured witnesses: a line matching a witness's name
 * and key id must verify (else it is reported as forged); lines of other keys are ignored,
 * as the signed-note rules say.
 */
export function checkCosignatures(noteText: string, lines: NoteSignature[], witnesses: WitnessKey[]): CosignatureStatus[] {
  const out: CosignatureStatus[] = [];
  for (const sig of lines) {
    const w = witnesses.find((k) => k.name === sig.name && cosignatureKeyId(k).equals(sig.blob.subarray(0, 4)));
    if (!w) continue;
    const valid = sig.blob.length === 4 + 8 + 64;
    const timestamp = valid ? sig.blob.readBigUInt64BE(4) : 0n;
    const ok = valid && timestamp < 2n ** 63n && nodeVerify(null, signedMessage(noteText, timestamp), w.publicKey, sig.blob.subarray(12));
    out.push(ok ? { witness: w.name, valid: true, timestamp: Number(timestamp) } : { witness: w.name, valid: false, line: sig.line });
  }
  return out;
}

/**
 * What stops a checkpoint from meeting the policy, or [] when it does: forged cosignatures by
 * configured witnesses, and too few distinct witnesses with a valid one (naming the missing).
 */
export function quorumProblems(noteText: string, lines: NoteSignature[], policy: WitnessPolicy, what: string): string[] {
  const results = checkCosignatures(noteText, lines, policy.witnesses);
  const problems = results
    .filter((r) => !r.valid)
    .map((r) => `${what}: the cosignature by witness ${r.witness} does not verify (forged or altered)`);
  const signed = new Set(results.filter((r) => r.valid).map((r) => r.witness));
  if (signed.size < policy.quorum) {
    const missing = policy.witnesses.filter((w) => !signed.has(w.name)).map((w) => w.name);
    problems.push(
      `${what} has ${signed.size} valid witness cosignature(s), the quorum is ${policy.quorum}: missing ${missing.join(', ') || 'none'}`,
    );
  }
  return problems;
}

/** A signed checkpoint (a proof's) must carry the policy's quorum of valid cosignatures; no policy, nothing to check. */
export function requireCosignatures(checkpoint: string, policy: WitnessPolicy | undefined, where: string): void {
  if (!policy) return;
  const { text, signatures } = splitNote(checkpoint, where);
  const problems = quorumProblems(text, signatures, policy, 'the checkpoint');
  if (problems.length > 0) throw new FindingError(problems.join('; '), { file: where });
}

/** Where a witness stores its cosignature of a tree size: a new object per cosigning, never an overwrite. */
export const cosignaturePrefix = (treeSize: number): string => `${COSIGNATURES_PREFIX}${padSize(treeSize)}/`;

export const cosignatureKey = (treeSize: number, witness: string, timestamp: number): string =>
  `${cosignaturePrefix(treeSize)}${witness.replace(/[^A-Za-z0-9._-]/g, '_')}-${timestamp}.sig`;

/** Every signature line stored for a tree size, whoever wrote it (verifiers pick their witnesses' by name and key id). */
export async function storedCosignatures(sink: SegmentSink, treeSize: number): Promise<NoteSignature[]> {
  const out: NoteSignature[] = [];
  for (const o of await sink.list(cosignaturePrefix(treeSize))) {
    const bytes = await sink.get(o.key);
    for (const line of Buffer.from(bytes ?? [])
      .toString('utf8')
      .split('\n')) {
      const sig = parseSignatureLine(line);
      if (sig) out.push(sig);
    }
  }
  return out;
}

/** Tree sizes with stored cosignatures, newest first. */
export async function cosignedSizes(sink: SegmentSink): Promise<number[]> {
  const sizes = new Set<number>();
  for (const o of await sink.list(COSIGNATURES_PREFIX)) {
    const m = /^cosignatures\/(\d{12})\//.exec(o.key);
    if (m) sizes.add(Number(m[1]));
  }
  return [...sizes].sort((a, b) => b - a);
}
