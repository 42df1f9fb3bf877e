import { canonicalJson, sha256Hex } from '../signing/index.js';
import type { AuditRecord } from './record.js';
import { leafHash } from './merkle.js';

/**
 * The hash chain. A sealed record's line is the canonical JSON (RFC 8785) of the record plus
 * `seq` and `prevHash` (the "body"), with `,"hash":"sha256:<hex>"` spliced in before the final
 * brace, where the hash is SHA-256 of the body bytes. A verifier recovers the body by cutting
 * that fixed-length suffix off, so checking a line costs one SHA-256 and no re-serialisation.
 * The record's Merkle leaf is the 32 raw bytes of its hash.
 */

export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;
const SUFFIX_PREFIX = ',"hash":"sha256:';
const SUFFIX_LENGTH = SUFFIX_PREFIX.length + 64 + 2;

export interface ChainedLine {
  line: string;
  hash: string;
}

export function chainRecord(record: AuditRecord, seq: number, prevHash: string): ChainedLine {
  const body = canonicalJson({ ...record, seq, prevHash });
  const hash = `sha256:${sha256Hex(body)}`;
  return { line: `${body.slice(0, -1)}${SUFFIX_PREFIX}${hash.slice(7)}"}`, hash };
}

/**
 * Splits a stored line into body and claimed hash, and recomputes the body's hash.
 * Returns undefined when the line does not end in the hash suffix.
 */
export function checkLine(line: string): { claimed: string; actual: string } | undefined {
  const suffix = line.slice(-SUFFIX_LENGTH);
  if (!suffix.startsWith(SUFFIX_PREFIX) || !suffix.endsWith('"}') || line.length <= SUFFIX_LENGTH + 1) return undefined;
  const claimed = `sha256:${suffix.slice(SUFFIX_PREFIX.length, -2)}`;
  const actual = `sha256:${sha256Hex(`${line.slice(0, -SUFFIX_LENGTH)}}`)}`;
  return { claimed, actual };
}

/** Recomputes a sealed record's hash from its fields (what an offline proof verifier does). */
export function recomputeHash(sealed: AuditRecord & { seq: number; prevHash: string }): string {
  const { hash: _ignored, ...rest } = sealed as AuditRecord & { seq: number; prevHash: string; hash?: string };
  return `sha256:${sha256Hex(canonicalJson(rest))}`;
}

export function recordLeaf(hash: string): Buffer {
  return leafHash(Buffer.from(hash.slice(7), 'hex'));
}
