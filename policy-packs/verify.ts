import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CharterError, FindingError, readText, validateWith } from '../common/index.js';
import {
  canonicalJson,
  digestOf,
  loadTrustedKeys,
  parseEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type TrustedKeysFile,
} from '../signing/index.js';
import { layerDigest, Manifest, MANIFEST_PAYLOAD_TYPE } from './manifest-schema.js';

export interface VerifiedManifest {
  manifest: Manifest;
  /** `sha256:` of the payload bytes: the manifest digest used everywhere downstream. */
  digest: string;
  envelope: DsseEnvelope;
  /** Names of the trusted keys whose signatures verified. */
  signedBy: string[];
}

/** Every internal digest check of a manifest; each entry names what differs. */
export function manifestDigestProblems(m: Manifest, packsDir?: string): string[] {
  const problems: string[] = [];
  for (const [id, p] of Object.entries(m.policies)) {
    if (digestOf(p.text) !== p.sha256) problems.push(`policies["${id}"].sha256 does not match its text`);
  }
  if (digestOf(m.schema.text) !== m.schema.sha256) problems.push('schema.sha256 does not match the schema text');
  for (const [i, layer] of m.layers.entries()) {
    if (layerDigest(layer) !== layer.digest) problems.push(`layers[${i}] (${layer.name}@${layer.version}).digest does not match its files`);
    if (!packsDir) continue;
    for (const f of layer.files) {
      const onDisk = join(packsDir, f.path);
      if (!existsSync(onDisk)) problems.push(`${f.path}: missing from ${packsDir}`);
      else if (digestOf(readText(onDisk)) !== f.sha256) problems.push(`${f.path}: sha256 differs from the file in ${packsDir}`);
    }
  }
  const base = m.layers.find((l) => l.layer === 'base');
  if (!base) problems.push('layers has no base layer');
  else if (base.digest !== m.baseDigest) problems.push('baseDigest does not match the base layer digest');
  return problems;
}

/**
 * Verifies a manifest envelope: signature by a key trusted for `manifest`, a canonical payload
 * that parses as a manifest, and every digest inside. Any failure is a FindingError (exit 1)
 * listing each failing check.
 */
export function verifyManifestEnvelope(
  envelope: DsseEnvelope,
  trusted: TrustedKeysFile,
  opts: { packsDir?: string; file?: string } = {},
): VerifiedManifest {
  const where = opts.file ?? 'manifest';
  const verified = verifyEnvelope(envelope, trusted, { payloadType: MANIFEST_PAYLOAD_TYPE, purpose: 'manifest' });
  const text = verified.payload.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FindingError('signed payload is not JSON', { file: where });
  }
  const manifest = validateWith(Manifest, value, `${where} (payload)`);
  const problems = manifestDigestProblems(manifest, opts.packsDir);
  if (canonicalJson(value) !== text) problems.unshift('payload is not canonical JSON (RFC 8785)');
  if (problems.length > 0) throw new FindingError(`manifest fails ${problems.length} check(s): ${problems[0]}`, { file: where }, problems);
  return { manifest, digest: digestOf(verified.payload), envelope, signedBy: verified.signedBy.map((k) => k.name) };
}

/**
 * The only way code loads a manifest: it is verified before anything reads it. A missing file
 * or unreadable trusted keys are bad input (exit 2); anything wrong with the manifest itself,
 * down to one changed byte, is a failed verification (exit 1).
 */
export function loadVerifiedManifest(file: string, trustedKeysFile: string, opts: { packsDir?: string } = {}): VerifiedManifest {
  const trusted = loadTrustedKeys(trustedKeysFile);
  const text = readText(file);
  try {
    return verifyManifestEnvelope(parseEnvelope(text, file), trusted, { ...opts, file });
  } catch (err) {
    if (!(err instanceof CharterError)) throw err;
    const message = err.message.startsWith(file) ? err.message : `${file}: ${err.message}`;
    throw new FindingError(message, undefined, err.details);
  }
}
