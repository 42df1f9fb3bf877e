import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from '../signing/index.js';
import type { AuditRecord } from './record.js';
import { checkLineBytes, SUFFIX_PREFIX } from './stored-line.js';

/**
 * The hash chain. A sealed record's line is the canonical JSON (RFC 8785) of the record plus
 * `seq` and `prevHash` (the "body"), with `,"hash":"sha256:<hex>"` spliced in before the final
 * brace, where the hash is SHA-256 of the body bytes. A verifier recovers the body by cutting
 * that fixed-length suffix off, so checking a line costs one SHA-256 and no re-serialisation.
 * The record's Merkle leaf is the 32 raw bytes of its hash.
 */

export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

const bodyHash = (body: string): string => `sha256:${oneShotHash('sha256', body, 'hex')}`;

export interface ChainedLine {
  line: string;
  hash: string;
}

/** JSON.stringify already writes these in RFC 8785 form; anything else goes through canonicalJson. */
const isFlat = (v: unknown): boolean =>
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  v === null ||
  (typeof v === 'number' && Number.isFinite(v)) ||
  (Array.isArray(v) && v.every((x) => typeof x === 'string'));

/** The key order of the last record seen and the RFC 8785 order of its body keys (records share one shape per kind). */
let lastShape: { keys: string[]; sorted: string[]; prefixes: string[] } | undefined;

function shapeOf(record: object): { sorted: string[]; prefixes: string[] } {
  const keys = Object.keys(record);
  if (lastShape && lastShape.keys.length === keys.length && lastShape.keys.every((k, i) => k === keys[i])) return lastShape;
  // Array.prototype.sort compares UTF-16 code units, which is RFC 8785's key order.
  const sorted = [...keys.filter((k) => k !== 'seq' && k !== 'prevHash'), 'seq', 'prevHash'].sort();
  lastShape = { keys, sorted, prefixes: sorted.map((k) => `${JSON.stringify(k)}:`) };
  return lastShape;
}

/**
 * `canonicalJson({ ...record, seq, prevHash })`, several times faster: the top-level key order
 * is computed once per record shape and flat values (all of a decision's) are written by
 * JSON.stringify, which formats strings and numbers exactly as RFC 8785 does. Nested objects
 * (approvals, evidence documents) still go through canonicalJson. `chain.test.ts` checks
 * both give the same bytes.
 */
export function canonicalBody(record: AuditRecord, seq: number, prevHash: string): string {
  const { sorted, prefixes } = shapeOf(record);
  const fields = record as unknown as Record<string, unknown>;
  let out = '';
  for (let i = 0; i < sorted.length; i++) {
    const key = sorted[i]!;
    const value = key === 'seq' ? seq : key === 'prevHash' ? prevHash : fields[key];
    if (value === undefined || typeof value === 'symbol') continue;
    out += `${out === '' ? '{' : ','}${prefixes[i]!}${isFlat(value) ? JSON.stringify(value) : canonicalJson(value)}`;
  }
  return `${out}}`;
}

export function chainRecord(record: AuditRecord, seq: number, prevHash: string): ChainedLine {
  const body = canonicalBody(record, seq, prevHash);
  const hash = bodyHash(body);
  return { line: `${body.slice(0, -1)}${SUFFIX_PREFIX}${hash.slice(7)}"}`, hash };
}

/** String form of checkLineBytes; hashes are returned as `sha256:<hex>`. */
export function checkLine(line: string): { claimed: string; actual: string } | undefined {
  const r = checkLineBytes(Buffer.from(line, 'utf8'), 0, Buffer.byteLength(line, 'utf8'));
  return r && { claimed: `sha256:${r.claimed}`, actual: `sha256:${r.actual}` };
}

/** Recomputes a sealed record's hash from its fields (what an offline proof verifier does). */
export function recomputeHash(sealed: AuditRecord & { seq: number; prevHash: string }): string {
  const { hash: _ignored, ...rest } = sealed as AuditRecord & { seq: number; prevHash: string; hash?: string };
  return bodyHash(canonicalJson(rest));
}
