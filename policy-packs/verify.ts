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
import { compileManifest } from './manifest.js';
import { layerDigest, Manifest, MANIFEST_PAYLOAD_TYPE } from './manifest-schema.js';
import { Workspace } from './workspace.js';

export interface VerifiedManifest {
  manifest: Manifest;
  /** `sha256:` of the payload bytes: the manifest digest used everywhere downstream. */
  digest: string;
  envelope: DsseEnvelope;
  /** Names of the trusted keys whose signatures verified. */
  signedBy: string[];
}

/** Every internal digest check of a manifest; each entry names what differs. */
function internalDigestProblems(m: Manifest): string[] {
  const problems: string[] = [];
  for (const [id, p] of Object.entries(m.policies)) {
    if (digestOf(p.text) !== p.sha256) problems.push(`policies["${id}"].sha256 does not match its text`);
  }
  if (digestOf(m.schema.text) !== m.schema.sha256) problems.push('schema.sha256 does not match the schema text');
  for (const [i, layer] of m.layers.entries()) {
    if (layerDigest(layer) !== layer.digest) problems.push(`layers[${i}] (${layer.name}@${layer.version}).digest does not match its files`);
  }
  const base = m.layers.find((l) => l.layer === 'base');
  if (!base) problems.push('layers has no base layer');
  else if (base.digest !== m.baseDigest) problems.push('baseDigest does not match the base layer digest');
  return problems;
}

/**
 * Each layer of the manifest against the pack of that name and version in the search path, and
 * each of its files against that pack's file of the same path (paths are relative to the packs
 * folder the pack was found in: your folder or the shipped packs).
 */
function layerFileProblems(m: Manifest, ws: Workspace): string[] {
  const problems: string[] = [];
  for (const layer of m.layers) {
    const pack = ws.catalog.versions(layer.name).find((p) => p.meta.version === layer.version);
    if (!pack) {
      problems.push(`layer ${layer.name}@${layer.version}: no such pack in ${ws.dir}`);
      continue;
    }
    const onDisk = new Map(pack.files.map((f) => [f.path, f.sha256]));
    for (const f of layer.files) {
      const sha256 = onDisk.get(f.path);
      if (sha256 === undefined) problems.push(`${f.path}: missing from ${pack.root}`);
      else if (sha256 !== f.sha256) problems.push(`${f.path}: sha256 differs from the file in ${pack.root}`);
    }
  }
  return problems;
}

/** The first place, in a reviewer's order (policies, schema, tools, then the rest), where two manifests differ. */
function firstDifference(signed: Manifest, compiled: Manifest): string | undefined {
  const ids = [...new Set([...Object.keys(signed.policies), ...Object.keys(compiled.policies)])].sort();
  for (const id of ids) {
    const [a, b] = [signed.policies[id], compiled.policies[id]];
    if (!b) return `policy ${id} is in the manifest but not in the packs`;
    if (!a) return `policy ${id} is in the packs but not in the manifest`;
    if (canonicalJson(a) !== canonicalJson(b)) return `policy ${id} differs (${a.text === b.text ? 'pack or file' : 'text'})`;
  }
  if (signed.schema.text !== compiled.schema.text) return 'the schema differs';
  const names = [...new Set([...signed.tools, ...compiled.tools].map((t) => t.name))].sort();
  for (const name of names) {
    const [a, b] = [signed.tools.find((t) => t.name === name), compiled.tools.find((t) => t.name === name)];
    if (!a || !b || canonicalJson(a) !== canonicalJson(b))
      return `tool ${name} ${!b ? 'is in the manifest but not in the packs' : !a ? 'is in the packs but not in the manifest' : 'differs'}`;
  }
  const field = (Object.keys(signed) as Array<keyof Manifest>).find((k) => canonicalJson(signed[k]) !== canonicalJson(compiled[k]));
  return field ? `${field} differs` : undefined;
}

/**
 * Whether the manifest is exactly what the compiler makes of the workspace `ws` (a packs folder or
 * a search path): every layer file's
 * digest, then a recompile that must give the same payload bytes (the compiler is deterministic).
 * Only `baseChanged` and `previousManifestDigest` are taken from the manifest: they depend on the
 * previous manifest, which is not an input here. A mismatch names the first policy, schema or
 * tool that differs, so a re-signed manifest with altered text cannot pass as the packs' output.
 */
export function manifestSourceProblems(m: Manifest, ws: Workspace): string[] {
  const files = layerFileProblems(m, ws);
  if (files.length > 0) return files;
  const compiled = compileManifest(ws, m.agent.name).manifest;
  const expected: Manifest = { ...compiled, baseChanged: m.baseChanged, previousManifestDigest: m.previousManifestDigest };
  if (canonicalJson(expected) === canonicalJson(m)) return [];
  return [`recompiling agent ${m.agent.name} from ${ws.dir} gives another manifest: ${firstDifference(m, expected) ?? 'the bytes differ'}`];
}

/**
 * Verifies a manifest envelope: signature by a key trusted for `manifest`, a canonical payload
 * that parses as a manifest, every digest inside, and with `packs` that it is exactly what
 * the compiler makes of that workspace. Any failure is a FindingError (exit 1)
 * listing each failing check.
 */
export function verifyManifestEnvelope(
  envelope: DsseEnvelope,
  trusted: TrustedKeysFile,
  opts: { packs?: Workspace; file?: string } = {},
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
  const problems = internalDigestProblems(manifest);
  if (canonicalJson(value) !== text) problems.unshift('payload is not canonical JSON (RFC 8785)');
  // Recompiling is worth it only for a manifest whose signature and digests already hold.
  if (problems.length === 0 && opts.packs) problems.push(...manifestSourceProblems(manifest, opts.packs));
  if (problems.length > 0) throw new FindingError(`manifest fails ${problems.length} check(s): ${problems[0]}`, { file: where }, problems);
  return { manifest, digest: digestOf(verified.payload), envelope, signedBy: verified.signedBy.map((k) => k.name) };
}

/**
 * The only way code loads a manifest: it is verified before anything reads it. A missing file
 * or unreadable trusted keys are bad input (exit 2); anything wrong with the manifest itself,
 * down to one changed byte, is a failed verification (exit 1).
 */
export function loadVerifiedManifest(file: string, trustedKeysFile: string, opts: { packs?: Workspace } = {}): VerifiedManifest {
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
