import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { contentPath, DEFAULT_HOME_CONFIG, packageRoot } from '../common/index.js';
import { allSchemas, schemaFiles, schemasDir, schemaText, type UserFileSchema } from './schemas.js';

// The JSON Schemas under schemas/ are generated from the loaders' zod schemas: they must be
// current, and every shipped YAML file must satisfy the schema an editor checks it against.
let schemas: UserFileSchema[];
// zod writes `format: includes` for z.string().includes(); the pattern beside it does the check.
const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { includes: true } });
addFormats.default(ajv);

beforeAll(async () => {
  schemas = await allSchemas();
});

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f))
    .sort();
}

/** The schema a shipped YAML file is checked against, by where it lives (as the editor settings map them). */
function schemaFor(file: string): string | undefined {
  const rel = relative(packageRoot, file).split('\\').join('/');
  const name = basename(file);
  if (rel.startsWith('evals/suites/')) return 'suite.schema.json';
  if (rel.startsWith('release-gates/environments/')) return 'gates.schema.json';
  if (rel.startsWith('datasets/')) return name === 'card.yaml' ? 'card.schema.json' : undefined;
  if (name === 'pack.yaml') return 'pack.schema.json';
  if (name === 'tools.yaml') return 'tools.schema.json';
  if (name === 'fixtures.yaml') return 'fixtures.schema.json';
  if (/\/tests\/[^/]+\.yaml$/.test(rel)) return 'tests.schema.json';
  return undefined;
}

const shippedYaml = () =>
  [
    contentPath('policy-packs', 'packs'),
    contentPath('evals', 'suites'),
    contentPath('release-gates', 'environments'),
    contentPath('datasets'),
    contentPath('policy-packs', 'fixtures', 'good'),
    contentPath('gateway', 'fixtures', 'packs'),
  ].flatMap(yamlFiles);

function validator(file: string) {
  return ajv.getSchema(`https://charter.dev/schemas/${file}`) ?? ajv.compile(JSON.parse(readFileSync(join(schemasDir(), file), 'utf8')));
}

describe('generated JSON Schemas', () => {
  it('are current: schemas/ holds exactly what charter schemas generates', () => {
    for (const f of schemaFiles(schemas, schemasDir())) {
      expect(existsSync(f.path), `${f.path} missing: run charter schemas`).toBe(true);
      expect(readFileSync(f.path, 'utf8'), `${f.path} is stale: run charter schemas`).toBe(f.text);
    }
    const names = new Set(schemas.map((s) => s.file));
    expect(readdirSync(schemasDir()).filter((f) => !names.has(f))).toEqual([]);
  });

  it('every shipped YAML file satisfies its schema', () => {
    const checked: string[] = [];
    for (const file of shippedYaml()) {
      const schemaFile = schemaFor(file);
      if (!schemaFile) continue;
      const validate = validator(schemaFile);
      const ok = validate(parse(readFileSync(file, 'utf8')));
      expect(ok, `${file} against ${schemaFile}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked.push(schemaFile);
    }
    // The home config charter init writes.
    const config = validator('config.schema.json');
    expect(config(parse(DEFAULT_HOME_CONFIG)), JSON.stringify(config.errors)).toBe(true);
    expect(config({ egress: { allow: [], deny: [] } })).toBe(false);
    // Every kind of shipped file was reached (a moved folder would otherwise check nothing).
    for (const kind of ['pack', 'tools', 'tests', 'fixtures', 'suite', 'gates', 'card'])
      expect(checked, kind).toContain(`${kind}.schema.json`);
    expect(checked.length).toBeGreaterThan(40);
  });

  it('shipped suites and gate environments name their schema for editors', () => {
    for (const dir of [contentPath('evals', 'suites'), contentPath('release-gates', 'environments')]) {
      for (const file of yamlFiles(dir)) {
        const first = readFileSync(file, 'utf8').split('\n')[0]!;
        const ref = /^# yaml-language-server: \$schema=(.+)$/.exec(first)?.[1];
        expect(ref, file).toBeDefined();
        expect(existsSync(join(file, '..', ref!)), `${file} -> ${ref}`).toBe(true);
        expect(basename(ref!)).toBe(schemaFor(file));
      }
    }
  });

  it('hold what the loaders hold: an unknown key or a wrong tier is refused', () => {
    const pack = validator('pack.schema.json');
    const good = { name: 'x', layer: 'intent', version: '1.0.0', owner: 'o', description: 'd', extends: { base: '^1.0.0' } };
    expect(pack(good)).toBe(true);
    expect(pack({ ...good, permits: [] })).toBe(false);
    const tests = validator('tests.schema.json');
    const test = { name: 't', tenant: 'acme', tool: { tier: 'read' }, expect: 'allow', determining: [] };
    expect(tests({ tests: [test] })).toBe(true);
    expect(tests({ tests: [{ ...test, tool: { tier: 'root' } }] })).toBe(false);
    expect(tests({ tests: [{ ...test, expect: 'maybe' }] })).toBe(false);
  });

  it('each schema names its file and how it was made', () => {
    for (const s of schemas) {
      const json = JSON.parse(schemaText(s)) as { $id: string; $schema: string; $comment: string };
      expect(json.$id).toBe(`https://charter.dev/schemas/${s.file}`);
      expect(json.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(json.$comment).toContain(s.describes);
    }
  });
});
