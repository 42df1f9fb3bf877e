import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

// canonicalize is CommonJS whose module.exports is the function; its typings claim an ES default.
const canonicalizeJson = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string | undefined;

/**
 * RFC 8785 (JCS) canonical JSON: sorted keys, no insignificant white space, fixed number
 * formatting. Everything Charter signs or digests goes through this, so the same value
 * always yields the same bytes.
 */
export function canonicalJson(value: unknown): string {
  const out = canonicalizeJson(value);
  if (out === undefined) throw new TypeError('value cannot be represented as canonical JSON');
  return out;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A content digest in the form used throughout Charter: `sha256:<hex>`. */
export function digestOf(data: string | Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

/** Digest of a JSON value's canonical form. */
export function digestJson(value: unknown): string {
  return digestOf(canonicalJson(value));
}
