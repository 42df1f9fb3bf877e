import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { InputError, offsetToLineColumn, parseYaml, readText } from '../common/index.js';
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

function listFiles(dir: string, isRoot = true): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      // A nested folder with its own pack.yaml is another pack, not part of this one.
      if (!existsSync(join(full, 'pack.yaml'))) out.push(...listFiles(full, false));
    } else if (isRoot || name !== 'pack.yaml') out.push(full);
  }
  return out;
}

function packDirs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (name.startsWith('.') || !statSync(full).isDirectory()) continue;
    if (existsSync(join(full, 'pack.yaml'))) out.push(full);
    out.push(...packDirs(full));
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

function idFromCedar(text: string): string | undefined {
  const json = cedar.policyToJson(text);
  return json.type === 'success' ? json.json.annotations?.['id'] : undefined;
}

/** Splits a Cedar file into policies, each with its @id; malformed Cedar is bad input at file:line:column. */
export function parsePolicyFile(pack: string, file: string, source: string): PackPolicy[] {
  const parts = cedar.policySetTextToParts(source);
  if (parts.type === 'failure') {
    throw new InputError(`malformed Cedar: ${cedarErrorText(parts.errors).join('; ')}`, cedarLocation(file, source, parts.errors[0]));
  }
  if (parts.policy_templates.length > 0) throw new InputError('policy templates are not supported in packs', { file });
  const out: PackPolicy[] = [];
  let cursor = 0;
  for (const text of parts.policies) {
    const found = source.indexOf(text, cursor);
    const offset = found >= 0 ? found : cursor;
    cursor = found >= 0 ? found + text.length : cursor;
    const { line } = offsetToLineColumn(source, offset);
    const id = leadingId(text) ?? idFromCedar(text);
    if (!id) throw new InputError('policy has no @id("...") annotation', { file, line });
    out.push({ id, pack, file, text, source, offset, line });
  }
  return out;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats.default(ajv);

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
  const texts = new Map(listFiles(dir).map((f) => [f, readText(f)]));
  const metaFile = join(dir, 'pack.yaml');
  const meta = parseYaml(texts.get(metaFile)!, rel(metaFile), PackFile);
  const pack: LoadedPack = {
    meta,
    key: `${meta.name}@${meta.version}`,
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
  const packs = packDirs(root).map((d) => loadPack(root, d));
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
