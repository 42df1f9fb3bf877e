import { hash } from 'node:crypto';
import { leafHash } from './merkle.js';

/**
 * Reading stored records (see chain.ts for how they are written): what verify workers need,
 * kept free of heavier imports so a worker thread starts quickly. A line is the record's
 * canonical body with `,"hash":"sha256:<hex>"` spliced in before its final brace.
 */

export const SUFFIX_PREFIX = ',"hash":"sha256:';
export const SUFFIX_LENGTH = SUFFIX_PREFIX.length + 64 + 2;
export const NOT_GZIP = 'segment is not valid gzip (modified or truncated)';

/**
 * Gunzip options for a whole segment: one output chunk of about the whole text (gzip JSONL
 * shrinks about eightfold); zlib's default 16 KiB chunks cost a third more in copying.
 */
export const wholeTextGunzip = (gzipBytes: number): { chunkSize: number } => ({
  chunkSize: Math.max(1 << 16, Math.min(1 << 26, gzipBytes * 8)),
});

const SUFFIX_PREFIX_BYTES = Buffer.from(SUFFIX_PREFIX);
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/**
 * Checks the stored line `buf[start, end)` without copying it: reads the claimed hash from
 * the suffix, hashes the body in place (the suffix's comma is swapped for the closing brace
 * for the duration of the hash) and returns both as hex. Undefined when the line does not
 * end in the hash suffix.
 */
export function checkLineBytes(buf: Buffer, start: number, end: number): { claimed: string; actual: string } | undefined {
  const suffixStart = end - SUFFIX_LENGTH;
  if (suffixStart <= start + 1 || buf[end - 1] !== CLOSE_BRACE || buf[end - 2] !== 0x22) return undefined;
  if (buf.compare(SUFFIX_PREFIX_BYTES, 0, SUFFIX_PREFIX_BYTES.length, suffixStart, suffixStart + SUFFIX_PREFIX_BYTES.length) !== 0)
    return undefined;
  const claimed = buf.toString('latin1', suffixStart + SUFFIX_PREFIX_BYTES.length, end - 2);
  buf[suffixStart] = CLOSE_BRACE;
  const actual = hash('sha256', buf.subarray(start, suffixStart + 1), 'hex');
  buf[suffixStart] = COMMA;
  return { claimed, actual };
}

/** The Merkle leaf of a record from its `sha256:<hex>` hash (or bare hex). */
export function recordLeaf(recordHash: string): Buffer {
  return leafHash(Buffer.from(recordHash.startsWith('sha256:') ? recordHash.slice(7) : recordHash, 'hex'));
}
