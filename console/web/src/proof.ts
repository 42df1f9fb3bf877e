import canonicalize from 'canonicalize';
import type { CheckpointKey, RecordView } from '../../api-types.js';

/**
 * The inclusion proof of a trail record, checked in the browser with WebCrypto, sharing no code
 * with the server's verifier (audit/proof.ts):
 * 1. the record's hash: SHA-256 of the RFC 8785 canonical JSON of the record without `hash`;
 * 2. its Merkle leaf SHA-256(0x00 || hash) and the RFC 9162 audit path up to a root;
 * 3. that root and tree size are those of the checkpoint note (C2SP tlog-checkpoint), whose
 *    Ed25519 signature (C2SP signed note: key id SHA-256(name || 0x0A || 0x01 || key)[0:4])
 *    verifies with one of the trusted keys the console was started with.
 * What it rests on and does not cover: console/README.md.
 */

export type ProofCheck =
  | { ok: true; treeSize: number; origin: string; keyName: string }
  | { ok: false; step: 'record hash' | 'audit path' | 'checkpoint signature' | 'checkpoint'; message: string };

const enc = new TextEncoder();

const bytes = (b64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

/** RFC 9162 2.1.3.2: the root an audit path gives for leaf `index` of a tree of `size`, or null. */
async function rootFromPath(index: number, size: number, leaf: Uint8Array, path: Uint8Array[]): Promise<Uint8Array | null> {
  if (index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** The checkpoint's text and whether a trusted key signed it; the key's name, or null. */
async function signedBy(note: string, keys: CheckpointKey[]): Promise<{ text: string; keyName: string | null }> {
  const split = note.indexOf('\n\n');
  if (split < 0) return { text: note, keyName: null };
  const text = note.slice(0, split + 1);
  for (const line of note.slice(split + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m) continue;
    const blob = bytes(m[2]!);
    for (const k of keys) {
      const raw = bytes(k.publicKey);
      const id = (await sha256(enc.encode(m[1]!), Uint8Array.of(0x0a, 0x01), raw)).slice(0, 4);
      if (!equal(id, blob.slice(0, 4))) continue;
      const key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
      if (await crypto.subtle.verify({ name: 'Ed25519' }, key, blob.slice(4), enc.encode(text))) return { text, keyName: k.name };
    }
  }
  return { text, keyName: null };
}

export async function checkProof(view: RecordView): Promise<ProofCheck> {
  const { hash, ...body } = view.record;
  const recomputed = `sha256:${hex(await sha256(enc.encode(canonicalize(body) ?? '')))}`;
  if (recomputed !== hash)
    return { ok: false, step: 'record hash', message: `the record's content hashes to ${recomputed}, not the ${hash} it carries` };
  const { text, keyName } = await signedBy(view.proof.checkpoint, view.trust.keys);
  if (!keyName)
    return { ok: false, step: 'checkpoint signature', message: 'the checkpoint is not signed by any trusted audit-checkpoint key' };
  const [origin, size, root] = text.split('\n');
  if (!origin || !size || !root || Number(size) !== view.proof.treeSize)
    return { ok: false, step: 'checkpoint', message: `the checkpoint is not for tree size ${view.proof.treeSize}` };
  const leaf = await sha256(Uint8Array.of(0), fromHex(hash.slice(7)));
  const got = await rootFromPath(view.record.seq, view.proof.treeSize, leaf, view.proof.auditPath.map(bytes));
  if (!got || !equal(got, bytes(root)))
    return { ok: false, step: 'audit path', message: `the audit path does not lead from seq ${view.record.seq} to the signed root` };
  return { ok: true, treeSize: view.proof.treeSize, origin, keyName };
}
