import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { contentPath, packageRoot } from '../common/index.js';

// A security engineer's first hour with their own pack, through the built CLI, in a fresh folder.
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
let cwd: string;

function charter(args: string[], at = cwd) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: at,
    encoding: 'utf8',
    env: { ...process.env, CHARTER_HOME: join(at, '.charter') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The commands of the README block marked `readme-commands: packs-authoring`, as argument lists. */
function readmeCommands(): string[][] {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const block = /<!-- readme-commands: packs-authoring -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'the README section with the packs-authoring commands').toBeDefined();
  return block!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const words = l.split(/\s+/);
      expect(words[0], l).toBe('charter');
      return words.slice(1);
    });
}

/** Every file under a folder, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

beforeAll(() => {
  expect(existsSync(CLI), 'run `npm run build` first: the CLI is tested as built').toBe(true);
  cwd = mkdtempSync(join(tmpdir(), 'charter-authoring-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('a new intent pack from packs new to a signed manifest, as the README shows', { timeout: 300_000 }, () => {
  it('runs the README commands as written', () => {
    const commands = readmeCommands();
    expect(commands.map((c) => c.slice(0, 2).join(' '))).toEqual([
      'keys generate',
      'packs new',
      'packs test',
      'packs compile',
      'manifest verify',
    ]);
    for (const args of commands) {
      const r = charter(args);
      expect(r.code, `charter ${args.join(' ')}\n${r.out}${r.err}`).toBe(0);
    }
    // The folder holds the new pack, its schemas and the manifest: nothing copied from the shipped packs.
    expect(tree(join(cwd, 'my-packs'))).toEqual([
      'contract-reader.manifest.json',
      'intent/contract-reader/pack.yaml',
      'intent/contract-reader/policies/permits.cedar',
      'intent/contract-reader/tests/first.yaml',
      'intent/contract-reader/tests/fixtures.yaml',
      'schemas/fixtures.schema.json',
      'schemas/pack.schema.json',
      'schemas/tests.schema.json',
      'schemas/tools.schema.json',
    ]);
    const verified = charter([
      'manifest',
      'verify',
      'my-packs/contract-reader.manifest.json',
      '--trusted-keys',
      '.charter/keys/trusted-keys.json',
      '--json',
    ]);
    const v = JSON.parse(verified.out) as { agent: string; layers: string[] };
    expect(v.agent).toBe('contract-reader');
    const shipped = (name: string) =>
      parse(readFileSync(contentPath('policy-packs', 'packs', name, 'pack.yaml'), 'utf8')) as { version: string };
    expect(v.layers).toEqual([
      `base@${shipped('base').version}`,
      `procurement@${shipped('domain/procurement').version}`,
      'contract-reader@0.1.0',
    ]);
  });

  it('the scaffolded files satisfy the schemas they name', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const pack = join(cwd, 'my-packs', 'intent', 'contract-reader');
    for (const file of ['pack.yaml', 'tests/first.yaml', 'tests/fixtures.yaml']) {
      const text = readFileSync(join(pack, file), 'utf8');
      const ref = /^# yaml-language-server: \$schema=(.+)$/.exec(text.split('\n')[0]!)?.[1];
      expect(ref, file).toBeDefined();
      const validate = ajv.compile(JSON.parse(readFileSync(join(pack, file, '..', ref!), 'utf8')));
      expect(validate(parse(text)), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('packs new never overwrites and writes nothing on refusal', () => {
    const before = tree(join(cwd, 'my-packs'));
    const permits = readFileSync(join(cwd, 'my-packs/intent/contract-reader/policies/permits.cedar'), 'utf8');
    const again = charter(['packs', 'new', '--agent', 'contract-reader', '--dir', './my-packs', '--json']);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.out).error.message).toMatch(/already exists: packs new never overwrites/);
    // A shipped agent's name is taken too.
    const shippedName = charter(['packs', 'new', '--agent', 'kraljic-classifier', '--dir', './my-packs']);
    expect(shippedName.code).toBe(2);
    expect(shippedName.err).toMatch(/a pack or agent named 'kraljic-classifier' already exists/);
    expect(tree(join(cwd, 'my-packs'))).toEqual(before);
    expect(readFileSync(join(cwd, 'my-packs/intent/contract-reader/policies/permits.cedar'), 'utf8')).toBe(permits);
  });
});

describe('manifest verify and release check search the packs as packs compile does', { timeout: 300_000 }, () => {
  const manifest = 'my-packs/contract-reader.manifest.json';
  const keys = ['--trusted-keys', '.charter/keys/trusted-keys.json'];
  let tampered: string;

  beforeAll(() => {
    // A copy of your folder where one policy changed after the manifest was compiled.
    tampered = mkdtempSync(join(tmpdir(), 'charter-tampered-'));
    cpSync(join(cwd, 'my-packs', 'intent'), join(tampered, 'intent'), { recursive: true });
    const file = join(tampered, 'intent/contract-reader/policies/permits.cedar');
    writeFileSync(file, readFileSync(file, 'utf8').replace('permit (', 'forbid ('));
  });
  afterAll(() => rmSync(tampered, { recursive: true, force: true }));

  /** The tests gate of `release check` on the README's manifest with these pack options. */
  function testsGate(...packs: string[]) {
    const r = charter(['release', 'check', '--env', 'dev', '--manifest', manifest, ...packs, '--json']);
    const report = JSON.parse(r.out) as { gates: Array<{ gate: string; status: string; reasons: string[]; evidence: unknown }> };
    return { gates: report.gates, tests: report.gates.find((g) => g.gate === 'tests')! };
  }

  it('manifest verify --packs DIR finds base and procurement after your folder', () => {
    const r = charter(['manifest', 'verify', manifest, ...keys, '--packs', './my-packs', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, agent: 'contract-reader' });
  });

  it('a changed policy in your folder still fails, naming the file', () => {
    const r = charter(['manifest', 'verify', manifest, ...keys, '--packs', tampered]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/intent\/contract-reader\/policies\/permits\.cedar: sha256 differs from the file in /);
    expect(r.err).not.toMatch(/base\//);
  });

  it('--no-shipped makes your folder the complete tree: the missing layers are named', () => {
    const r = charter(['manifest', 'verify', manifest, ...keys, '--packs', './my-packs', '--no-shipped']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/layer base@\d+\.\d+\.\d+: no such pack in \.\/my-packs/);
    expect(r.err).toMatch(/layer procurement@\d+\.\d+\.\d+: no such pack in \.\/my-packs/);
  });

  it('release check --packs tests and scans the same search path', () => {
    const { gates, tests } = testsGate('--packs', './my-packs');
    expect(tests.status, tests.reasons.join('\n')).toBe('pass');
    expect(JSON.stringify(tests.evidence)).toContain(contentPath('policy-packs', 'packs'));
    const secrets = gates.find((g) => g.gate === 'secrets')!.evidence as { scanned: { paths: string[] } };
    expect(secrets.scanned.paths).toEqual(expect.arrayContaining(['./my-packs', contentPath('policy-packs', 'packs')]));

    const changed = testsGate('--packs', tampered).tests;
    expect(changed.status).toBe('fail');
    expect(changed.reasons.join('\n')).toMatch(/intent\/contract-reader\/policies\/permits\.cedar: sha256 differs/);

    const alone = testsGate('--packs', './my-packs', '--no-shipped').tests;
    expect(alone.status).toBe('fail');
    expect(alone.reasons.join('\n')).toMatch(/layer base@[\d.]+: no such pack in \.\/my-packs/);
  });
});

describe('your folder extends the shipped packs but never overrides them', { timeout: 300_000 }, () => {
  /** A copy of my-packs with one shipped pack copied in under its own name. */
  function withShippedCopy(name: string, from: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'charter-override-'));
    cpSync(join(cwd, 'my-packs', 'intent'), join(dir, 'intent'), { recursive: true });
    cpSync(contentPath('policy-packs', 'packs', from), join(dir, name), { recursive: true });
    return dir;
  }

  it('a pack of yours named base is an error naming its file', () => {
    const dir = withShippedCopy('base', 'base');
    // Weaken the copy: were it searched first, tenant isolation would be gone.
    writeFileSync(join(dir, 'base', 'policies', 'tenant-isolation.cedar'), '');
    const r = charter(['packs', 'test', '--packs', dir, '--json']);
    expect(r.code).toBe(2);
    const err = JSON.parse(r.out).error as { message: string; location?: { file?: string } };
    expect(err.message).toMatch(/pack 'base' redeclares the shipped pack base@\d+\.\d+\.\d+: base is extended, never overridden/);
    expect(err.location?.file).toBe(join(dir, 'base', 'pack.yaml'));
    const compiled = charter(['packs', 'compile', '--packs', dir, '--agent', 'contract-reader', '--out', join(dir, 'm.json')]);
    expect(compiled.code).toBe(2);
    expect(existsSync(join(dir, 'm.json'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('redeclaring a shipped domain pack is an error too', () => {
    const dir = withShippedCopy('domain/procurement', 'domain/procurement');
    const r = charter(['packs', 'validate', '--packs', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/pack 'procurement' redeclares the shipped pack procurement@[\d.]+: shipped packs are extended, not redeclared/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('packs test runs your tests and the base and domain tests against your agent, not the shipped agents', () => {
    const r = charter(['packs', 'test', '--packs', './my-packs', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { cases: number; failures: unknown[]; packs: Array<{ pack: string }> };
    expect(report.packs.map((p) => p.pack)).toEqual(['contract-reader@0.1.0']);
    // Two own cases; the rest are base and domain tests run against contract-reader (regression).
    expect(report.cases).toBeGreaterThan(50);
    // No shipped agent is under test: none of their cases exists to match.
    expect(charter(['packs', 'test', '--packs', './my-packs', '--filter', 'kraljic-classifier']).code).toBe(2);
  });
});

describe('packs test for CI: --filter, JUnit and SARIF', { timeout: 300_000 }, () => {
  let failing: string;
  const testFile = () => join(failing, 'intent', 'contract-reader', 'tests', 'first.yaml');

  beforeAll(() => {
    failing = mkdtempSync(join(tmpdir(), 'charter-failing-'));
    cpSync(join(cwd, 'my-packs', 'intent'), join(failing, 'intent'), { recursive: true });
    // The allow test now expects a deny: one failure, at a known line.
    const text = readFileSync(testFile(), 'utf8');
    writeFileSync(testFile(), text.replace('    expect: allow', '    expect: deny'));
  });
  afterAll(() => rmSync(failing, { recursive: true, force: true }));

  /** The 1-based line of the test named `name` in the tests file, read independently of Charter. */
  const lineOf = (name: string) => readFileSync(testFile(), 'utf8').split('\n').indexOf(`  - name: ${name}`) + 1;

  it('--filter narrows by pack, file or test name; no match is a usage error', () => {
    const all = JSON.parse(charter(['packs', 'test', '--packs', failing, '--json']).out) as { cases: number };
    const byName = charter(['packs', 'test', '--packs', failing, '--filter', "another tenant's entity", '--json']);
    const named = JSON.parse(byName.out) as { cases: number; failures: unknown[]; filter: string };
    expect(byName.code).toBe(0);
    expect(named.filter).toBe("another tenant's entity");
    expect(named.cases).toBe(1);
    expect(named.failures).toEqual([]);
    const byFile = JSON.parse(charter(['packs', 'test', '--packs', failing, '--filter', 'tests/first.yaml', '--json']).out) as {
      cases: number;
    };
    expect(byFile.cases).toBe(2);
    expect(all.cases).toBeGreaterThan(byFile.cases);
    const none = charter(['packs', 'test', '--packs', failing, '--filter', 'no-such-test', '--json']);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.out).error.message).toMatch(/no test matches --filter 'no-such-test'/);
  });

  it('writes JUnit XML and SARIF 2.1.0: one result per failure, at its file and line', () => {
    const out = mkdtempSync(join(tmpdir(), 'charter-ci-'));
    mkdirSync(join(out, 'reports'));
    const r = charter(
      ['packs', 'test', '--packs', failing, '--junit', 'reports/junit.xml', '--sarif', 'reports/packs.sarif', '--json'],
      out,
    );
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { cases: number; failures: Array<{ test: string; file: string }> };
    expect(json.failures.map((f) => f.test)).toEqual(['get_category_spend on its own tenant']);
    const line = lineOf('get_category_spend on its own tenant');
    expect(line).toBeGreaterThan(1);

    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      readFileSync(join(out, 'reports/junit.xml'), 'utf8'),
    ) as {
      testsuites: { tests: string; failures: string; testsuite: Array<{ name: string; testcase: unknown }> };
    };
    expect(Number(junit.testsuites.tests)).toBe(json.cases);
    expect(Number(junit.testsuites.failures)).toBe(1);
    const cases = junit.testsuites.testsuite.flatMap((s) => [s.testcase].flat()) as Array<{
      name: string;
      file: string;
      line: string;
      failure?: { message: string };
    }>;
    expect(cases).toHaveLength(json.cases);
    const failed = cases.filter((c) => c.failure);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.name).toBe('get_category_spend on its own tenant [get_category_spend]');
    expect(failed[0]!.failure!.message).toMatch(/expected deny by \[contract-reader.allow.get_category_spend\], got allow/);
    expect(join(out, failed[0]!.file)).toBe(testFile());
    expect(Number(failed[0]!.line)).toBe(line);

    const sarif = JSON.parse(readFileSync(join(out, 'reports/packs.sarif'), 'utf8')) as {
      version: string;
      $schema: string;
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string }> } };
        results: Array<{
          ruleId: string;
          level: string;
          message: { text: string };
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>;
        }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('charter packs test');
    expect(run.results).toHaveLength(json.failures.length);
    const [result] = run.results;
    expect(run.tool.driver.rules.map((x) => x.id)).toContain(result!.ruleId);
    expect(result!.level).toBe('error');
    expect(result!.message.text).toMatch(/expected deny/);
    const loc = result!.locations[0]!.physicalLocation;
    expect(join(out, loc.artifactLocation.uri)).toBe(testFile());
    expect(loc.region.startLine).toBe(line);
    rmSync(out, { recursive: true, force: true });
  });
});
