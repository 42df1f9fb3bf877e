import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { InputError, parseYaml, readText } from '../common/index.js';
import { digestOf } from '../signing/index.js';
import { cedar, cedarErrorText, cedarLocation } from './cedar.js';
import { FixturesFile, PackFile, TestsFile, ToolsFile, type PackTest, type ToolDefinition } from './pack-file.js';

/** One policy of a pack, located in its source file. */
export interface PackPolicy {
  id: string;
  pack: string;
  /** Path relative to the packs folder, with forward slashes. */
  file: string;
  text: string;
  /** The whole source file, so later errors (strict validation) can be located in it. */
  source: string;
  /** Character offset of the policy text within the source file. */
  offset: number;
  line: number;
}

export interface SourceText {
  file: string;
  text: string;
}

export interface LoadedTest {
  file: string;
  pack: string;
  test: PackTest;
}

export interface LoadedPack {
  meta: PackFile;
  /** `name@version`. */
  key: string;
  /** The packs folder the pack was loaded from (file paths are relative to it). */
  root: string;
  dir: string;
  /** Every file of the pack, relative to the packs folder, sorted, with its digest. */
  files: Array<{ path: string; sha256: string }>;
  policies: PackPolicy[];
  schema?: SourceText;
  /** base only: tests/fixture.cedarschema, the stand-in tools of base-only test runs. */
  fixtureSchema?: SourceText;
  tools?: { file: string; tools: ToolDefinition[] };
  tests: LoadedTest[];
  fixtures: Array<{ file: string; data: FixturesFile }>;
}

const posix = (p: string) => p.split(sep).join('/');

/** Limits on what one pack file may hold: beyond them loading (Cedar's parse above all) stops scaling. */
export const PACK_FILE_LIMITS = { bytes: 1024 * 1024, policiesPerFile: 1000 } as const;

/**
 * The entry's stat, refusing a symbolic link: a link could pull a file from outside the pack
 * into what is compiled and signed, and a link inside the pack would count one file twice.
 */
function statInPack(full: string, root: string): Stats {
  const stat = lstatSync(full);
  if (stat.isSymbolicLink()) {
    let target: string;
    try {
      target = realpathSync(full);
    } catch {
      target = readlinkSync(full);
    }
    const where = relative(root, target).startsWith('..') ? 'outside the packs folder' : 'inside the packs folder';
    throw new InputError(`symbolic links are not allowed in packs: ${posix(relative(root, full))} -> ${target} (${where})`, { file: full });
  }
  return stat;
}

function listFiles(root: string, dir: string, isRoot = true): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    const stat = statInPack(full, root);
    if (stat.isDirectory()) {
      // A nested folder with its own pack.yaml is another pack, not part of this one.
      if (!existsSync(join(full, 'pack.yaml'))) out.push(...listFiles(root, full, false));
    } else if (isRoot || name !== 'pack.yaml') {
      if (stat.size > PACK_FILE_LIMITS.bytes)
        throw new InputError(`file is ${stat.size} bytes, more than the limit of ${PACK_FILE_LIMITS.bytes} for a pack file`, {
          file: posix(relative(root, full)),
        });
      out.push(full);
    }
  }
  return out;
}

function packDirs(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (name.startsWith('.') || !statInPack(full, root).isDirectory()) continue;
    if (existsSync(join(full, 'pack.yaml'))) out.push(full);
    out.push(...packDirs(root, full));
  }
  return out;
}

// Whitespace, a line comment, or an annotation with an escape-free string value.
const LEADING_TOKEN = /\s+|\/\/[^\n]*|@([A-Za-z_][A-Za-z0-9_]*)(?:\s*\(\s*"([^"\\]*)"\s*\))?/y;

/**
 * The @id of a policy Cedar has already parsed, read from the annotations before its effect.
 * Undefined when that plain reading is not enough (no @id, an escape, a comment inside the
 * annotation): then Cedar answers. Asking Cedar for every policy's JSON is the slowest part of
 * loading packs, so it is the fallback only.
 */
function leadingId(text: string): string | undefined {
  LEADING_TOKEN.lastIndex = 0;
  for (let m = LEADING_TOKEN.exec(text); m; m = LEADING_TOKEN.exec(text)) if (m[1] === 'id') return m[2] || undefined;
  return undefined;
}

/**
 * Where a policy's plain leading tokens end (whitespace, comments, annotations with escape-free
 * values): at its effect, unless an annotation needs more than that plain reading.
 */
export function leadingTokensEnd(text: string): number {
  LEADING_TOKEN.lastIndex = 0;
  let end = 0;
  for (let m = LEADING_TOKEN.exec(text); m; m = LEADING_TOKEN.exec(text)) end = LEADING_TOKEN.lastIndex;
  return end;
}

/**
 * A parsed policy's effect, read after its leading annotations and comments; Cedar answers when
 * that plain reading is not enough (an annotation with an escape or a comment inside it).
 */
export function effectOf(text: string): 'permit' | 'forbid' {
  const end = leadingTokensEnd(text);
  const plain = /^(permit|forbid)\s*\(/.exec(text.slice(end))?.[1];
  if (plain === 'permit' || plain === 'forbid') return plain;
  const json = cedar.policyToJson(text);
  if (json.type === 'failure') throw new Error(`a policy Cedar parsed has no readable effect: ${cedarErrorText(json.errors).join('; ')}`);
  return json.json.effect;
}

function idFromCedar(text: string): string | undefined {
  const json = cedar.policyToJson(text);
  return json.type === 'success' ? json.json.annotations?.['id'] : undefined;
}

/**
 * The policies of a parsed file in source order. cedar-wasm names them policy0, policy1, ... in
 * source order but returns them sorted by that name (policy0, policy1, policy10, policy11, ...,
 * policy2), so the k-th in source order sits where `policy<k>` sorts.
 */
function inSourceOrder(policies: string[]): string[] {
  const names = policies.map((_, k) => k).sort((a, b) => (`policy${a}` < `policy${b}` ? -1 : 1));
  const out = new Array<string>(policies.length);
  names.forEach((k, i) => (out[k] = policies[i]!));
  return out;
}

/** Splits a Cedar file into policies, each with its @id and line; malformed Cedar is bad input at file:line:column. */
export function parsePolicyFile(pack: string, file: string, source: string): PackPolicy[] {
  const parts = cedar.policySetTextToParts(source);
  if (parts.type === 'failure') {
    throw new InputError(`malformed Cedar: ${cedarErrorText(parts.errors).join('; ')}`, cedarLocation(file, source, parts.errors[0]));
  }
  if (parts.policy_templates.length > 0) throw new InputError('policy templates are not supported in packs', { file });
  if (parts.policies.length > PACK_FILE_LIMITS.policiesPerFile)
    throw new InputError(
      `file holds ${parts.policies.length} policies, more than the limit of ${PACK_FILE_LIMITS.policiesPerFile} for one file (split it)`,
      { file },
    );
  const out: PackPolicy[] = [];
  // One pass over the source: each policy is found after the previous one, and lines are
  // counted only over the stretch between them.
  let cursor = 0;
  let line = 1;
  for (const text of inSourceOrder(parts.policies)) {
    const offset = source.indexOf(text, cursor);
    if (offset < 0) throw new Error(`${file}: cedar-wasm returned a policy that is not in the source in order`);
    for (let i = cursor; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
    const id = leadingId(text) ?? idFromCedar(text);
    if (!id) throw new InputError('policy has no @id("...") annotation', { file, line });
    out.push({ id, pack, file, text, source, offset, line });
    for (let i = offset; i < offset + text.length; i++) if (source.charCodeAt(i) === 10) line++;
    cursor = offset + text.length;
  }
  return out;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats.default(ajv);
// An argument that names entities (a string id, or an array of them) says of which type; the
// gateway resolves each and refuses one outside the caller's tenant (gateway/tenant-args.ts).
ajv.addKeyword({ keyword: 'x-entity', schemaType: 'string' });

function loadTools(text: string, rel: string) {
  const parsed = parseYaml(text, rel, ToolsFile);
  parsed.tools.forEach((tool, i) => {
    try {
      ajv.compile(tool.args);
    } catch (err) {
      throw new InputError(`args is not a valid JSON Schema: ${(err as Error).message}`, { file: rel, field: `tools[${i}].args` });
    }
  });
  return { file: rel, tools: parsed.tools };
}

function loadPack(root: string, dir: string): LoadedPack {
  const rel = (f: string) => posix(relative(root, f));
  // Each file is read once: what is digested into manifests is exactly what was parsed.
  const texts = new Map(listFiles(root, dir).map((f) => [f, readText(f)]));
  const metaFile = join(dir, 'pack.yaml');
  const meta = parseYaml(texts.get(metaFile)!, rel(metaFile), PackFile);
  const pack: LoadedPack = {
    meta,
    key: `${meta.name}@${meta.version}`,
    root,
    dir,
    files: [...texts].map(([f, text]) => ({ path: rel(f), sha256: digestOf(text) })),
    policies: [],
    tests: [],
    fixtures: [],
  };
  for (const [f, text] of texts) {
    const r = posix(relative(dir, f));
    if (f.endsWith('.cedar')) pack.policies.push(...parsePolicyFile(meta.name, rel(f), text));
    else if (r === 'schema.cedarschema') pack.schema = { file: rel(f), text };
    else if (r === 'tests/fixture.cedarschema') pack.fixtureSchema = { file: rel(f), text };
    else if (r === 'tools.yaml') pack.tools = loadTools(text, rel(f));
    else if (r === 'tests/fixtures.yaml') pack.fixtures.push({ file: rel(f), data: parseYaml(text, rel(f), FixturesFile) });
    else if (/^tests\/[^/]+\.ya?ml$/.test(r)) {
      for (const test of parseYaml(text, rel(f), TestsFile).tests) pack.tests.push({ file: rel(f), pack: pack.key, test });
    }
  }
  if (pack.tools && meta.layer !== 'domain') throw new InputError('only domain packs have a tool catalog', { file: pack.tools.file });
  if (pack.fixtureSchema && meta.layer !== 'base')
    throw new InputError('only the base pack has a fixture schema', { file: pack.fixtureSchema.file });
  return pack;
}

/** Loads every pack under `root` (any folder with a pack.yaml), sorted by name then version. */
export function loadPacks(root: string): LoadedPack[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InputError('packs folder not found', { file: root });
  const packs = packDirs(root, root).map((d) => loadPack(root, d));
  const seen = new Map<string, LoadedPack>();
  for (const p of packs) {
    const other = seen.get(p.key);
    if (other)
      throw new InputError(`pack ${p.key} appears twice: ${posix(relative(root, other.dir))} and ${posix(relative(root, p.dir))}`, {
        file: root,
      });
    seen.set(p.key, p);
  }
  if (packs.length === 0) throw new InputError('no packs (folders with pack.yaml) found', { file: root });
  return packs;
}
