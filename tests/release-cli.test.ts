import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath, packageRoot } from '../common/index.js';

// `charter release` through the built CLI: the gate table, exit codes (1 a gate blocks,
// 2 bad input) and nothing written when a release is refused.
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const BAD_GATES = contentPath('release-gates', 'fixtures', 'gates-bad');
const TEST_REPORT = contentPath('release-gates', 'fixtures', 'vitest-report-pass.json');
let home: string;
let manifest: string;

function charter(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  expect(existsSync(CLI), 'run `npx tsc -p tsconfig.json` first: the CLI is tested as built').toBe(true);
  home = mkdtempSync(join(tmpdir(), 'charter-release-cli-'));
  for (const [name, purpose] of [
    ['manifest-signer', 'manifest'],
    ['release-signer', 'release-record'],
    ['audit', 'audit-checkpoint'],
  ]) {
    expect(charter('keys', 'generate', '--name', name!, '--purpose', purpose!).code).toBe(0);
  }
  manifest = join(home, 'manifests', 'spot-bidding.manifest.json');
  const compiled = charter(
    'packs',
    'compile',
    '--agent',
    'spot-bidding',
    '--no-shipped',
    '--packs',
    contentPath('gateway', 'fixtures', 'packs'),
  );
  expect(compiled.err).toBe('');
  expect(compiled.code).toBe(0);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/**
 * The JUnit and SARIF files of a release check: a testcase per gate, one SARIF result per blocking
 * gate, located at the gate's entry in the environment's gate file (its line found here by text).
 */
function ciReportsName(gates: Array<{ gate: string; blocking: boolean }>, junitFile: string, sarifFile: string) {
  const envFile = contentPath('release-gates', 'environments', 'dev.yaml');
  const lineOf = (gate: string) =>
    readFileSync(envFile, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith(`  ${gate}:`)) + 1;
  const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(junitFile, 'utf8')) as {
    testsuites: { tests: string; failures: string; testsuite: { testcase: Array<{ name: string; failure?: unknown }> } };
  };
  expect(Number(junit.testsuites.tests)).toBe(gates.length);
  expect(Number(junit.testsuites.failures)).toBe(1);
  expect(junit.testsuites.testsuite.testcase.filter((c) => c.failure).map((c) => c.name)).toEqual(['evals']);
  const log = JSON.parse(readFileSync(sarifFile, 'utf8')) as {
    version: string;
    runs: Array<{
      tool: { driver: { name: string; rules: Array<{ id: string }> } };
      results: Array<{
        ruleId: string;
        message: { text: string };
        locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>;
      }>;
    }>;
  };
  expect(log.version).toBe('2.1.0');
  const [run] = log.runs;
  expect(run!.tool.driver.name).toBe('charter release check');
  expect(run!.results.map((r) => r.ruleId)).toEqual(['release/evals']);
  expect(run!.tool.driver.rules.map((r) => r.id)).toContain('release/evals');
  expect(run!.results[0]!.message.text).toMatch(/no signed eval report for manifest sha256:/);
  const loc = run!.results[0]!.locations[0]!.physicalLocation;
  expect(resolve(loc.artifactLocation.uri)).toBe(envFile);
  expect(lineOf('evals')).toBeGreaterThan(1);
  expect(loc.region.startLine).toBe(lineOf('evals'));
}

// Each call starts a Node process that loads Cedar, the AWS SDK and asks npm for advisories: on a
// busy two-core machine a call takes seconds, so these tests get more than the default 30 s.
describe('charter release', { timeout: 120_000 }, () => {
  it('check prints a table of gates with evidence and exits 1 when a required gate blocks', () => {
    const r = charter('release', 'check', '--env', 'dev', '--manifest', manifest, '--test-report', TEST_REPORT);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/spot-bidding -> dev: manifest sha256:[0-9a-f]{64}/);
    expect(r.out).toMatch(/│ evals\s+│ required\s+│ FAIL \(blocks\)\s+│ 0 report\(s\) for this manifest/);
    expect(r.out).toMatch(/no signed eval report for manifest sha256:/);
    expect(r.out).toMatch(/│ tests\s+│ required\s+│ pass\s+│ vitest: 3\/3 passed, 0 failed/);
    expect(r.out).toMatch(/│ cedar\s+│ required\s+│ pass /);
    expect(r.out).toMatch(/│ dependencies\s+│ advisory\s+│ (not-run \(advisory\)|pass|fail \(advisory\))\s+│/);
    expect(r.out).toMatch(/blocked by: evals/);

    const junit = join(home, 'ci', 'release.junit.xml');
    const sarif = join(home, 'ci', 'release.sarif');
    const json = charter(
      'release',
      'check',
      '--env',
      'dev',
      '--manifest',
      manifest,
      '--test-report',
      TEST_REPORT,
      '--json',
      '--junit',
      junit,
      '--sarif',
      sarif,
    );
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.out) as { ok: boolean; gates: Array<{ gate: string; status: string; blocking: boolean }> };
    expect(doc.ok).toBe(false);
    expect(doc.gates.filter((g) => g.blocking).map((g) => g.gate)).toEqual(['evals']);
    ciReportsName(doc.gates, junit, sarif);
  });

  it('promote refuses with the reason and writes no release record; rollback with nothing to roll back to exits 1', () => {
    const r = charter('release', 'promote', '--env', 'dev', '--manifest', manifest, '--test-report', TEST_REPORT);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/release of spot-bidding to dev refused: evals fail \(no signed eval report for manifest/);
    expect(existsSync(join(home, 'releases', 'dev', 'spot-bidding', 'records'))).toBe(false);
    const rb = charter('release', 'rollback', '--env', 'dev', '--agent', 'spot-bidding', '--reason', 'test');
    expect(rb.code).toBe(1);
    expect(rb.err).toMatch(/spot-bidding in dev has no earlier release to roll back to/);
  });

  it('bad gate YAML and bad environments are input errors (exit 2) naming file, line and field', () => {
    const stg = charter('release', 'check', '--env', 'stg', '--manifest', manifest, '--gates', BAD_GATES);
    expect(stg.code).toBe(2);
    expect(stg.err).toMatch(/gates-bad\/stg\.yaml:12 \(gates\.canary\.maxFlipRate\)/);
    const qa = charter('release', 'check', '--env', 'qa', '--manifest', manifest);
    expect(qa.code).toBe(2);
    expect(qa.err).toMatch(/unknown environment 'qa' \(one of dev, stg, prod\)/);
  });

  it('the runtime refuses unreleased manifests; --all releases every compiled manifest and stg takes what dev released', () => {
    const unreleased = charter('negotiations', 'run', '--tenant', 'acme', '--sample', '0');
    expect(unreleased.code).toBe(1);
    expect(unreleased.err).toMatch(
      /the runtime loads only released manifests: .*spot-bidding has no release in dev: refusing to load an unreleased manifest.*\(charter release promote --env dev --all\)/,
    );

    const waiver = charter(
      'release',
      'approve',
      '--env',
      'dev',
      '--all',
      '--key',
      join(home, 'keys', 'manifest-signer.key.pem'),
      '--waive',
      'dependencies',
    );
    expect(waiver.code).toBe(2);
    expect(waiver.err).toMatch(/a waiver needs its reason: give --note/);
    expect(charter('release', 'promote', '--env', 'dev', '--agent', 'spot-bidding', '--all').code).toBe(2);

    const off = contentPath('release-gates', 'fixtures', 'gates-off');
    const dev = charter('release', 'promote', '--env', 'dev', '--all', '--gates', off, '--json');
    expect(dev.code, dev.err).toBe(0);
    expect(JSON.parse(dev.out)).toMatchObject({
      ok: true,
      environment: 'dev',
      results: [{ agent: 'spot-bidding', manifestDigest: expect.stringMatching(/^sha256:/) }],
    });
    const stg = charter('release', 'check', '--env', 'stg', '--all', '--gates', off, '--json');
    expect(stg.code, stg.err).toBe(0);
    expect(JSON.parse(stg.out)).toMatchObject({
      ok: true,
      reports: [
        {
          agent: 'spot-bidding',
          gates: [
            { gate: 'promotion-order', status: 'pass' },
            { gate: 'pack-versions', status: 'pass' },
            ...Array(8).fill({ status: 'not-run', blocking: false }),
          ],
        },
      ],
    });
  });
});
