import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath, packageRoot } from '../common/index.js';
import { digestOf } from '../signing/index.js';

// Significant eval regressions against an environment's current release, through the built CLI.
// v1 of the Kraljic classifier is released to prod with its signed eval report. v2 ignores the
// tenants' thresholds (its suite pins 0.5 for every tenant) and lowers its own accuracy threshold
// to 0.7, so it passes every threshold while 33 cases that v1 got right now fail. Prod's shipped
// evals gate (`regressions: block`) refuses it, listing the cases; the same gate set to `warn`
// passes it and shows the regression as a warning (text, --json, JUnit, SARIF).
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const GATES_OFF = contentPath('release-gates', 'fixtures', 'gates-off');
const AGENT = 'kraljic-classifier';
let home: string;
const manifest = { v1: '', v2: '' };
const gates = { block: '', warn: '' };
let v1Report: string;

function charter(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A complete copy of the shipped packs whose Kraljic pack carries `version` and only the given threshold. */
function packs(name: string, version: string, threshold: string): string {
  const dir = join(home, `packs-${name}`);
  cpSync(contentPath('policy-packs', 'packs'), dir, { recursive: true });
  const file = join(dir, 'intent', AGENT, 'pack.yaml');
  const text = readFileSync(file, 'utf8')
    .replace(/^version: .*$/m, `version: ${version}`)
    .replace(/ {2}evalThresholds:\n( {4}- .*\n)+/, `  evalThresholds:\n    - ${threshold}\n`);
  writeFileSync(file, text);
  return dir;
}

/** The shipped prod gates with every gate but evals off; its evals entry as shipped, or with `regressions` replaced. */
function prodGates(name: string, regressions?: 'warn'): string {
  const dir = join(home, `gates-${name}`);
  cpSync(GATES_OFF, dir, { recursive: true });
  const shipped = readFileSync(contentPath('release-gates', 'environments', 'prod.yaml'), 'utf8');
  let evals = shipped.split('\n').find((l) => l.startsWith('  evals:'))!;
  if (regressions) evals = evals.replace(/regressions: \w+/, `regressions: ${regressions}`);
  const file = join(dir, 'prod.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}evals: .*$/m, evals));
  return dir;
}

/** Runs a suite on a manifest through the CLI; returns the signed report's file. */
function evalRun(suite: string, manifestFile: string): string {
  const r = charter('evals', 'run', suite, '--manifest', manifestFile, '--json');
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { files: { report: string } }).files.report;
}

function promote(env: string, manifestFile: string): void {
  const r = charter('release', 'promote', '--env', env, '--manifest', manifestFile, '--gates', GATES_OFF, '--json');
  expect(r.code, r.err).toBe(0);
}

beforeAll(() => {
  expect(existsSync(CLI), 'run `npx tsc -p tsconfig.json` first: the CLI is tested as built').toBe(true);
  home = mkdtempSync(join(tmpdir(), 'charter-release-regressions-'));
  const purposes = {
    'manifest-signer': 'manifest',
    'release-signer': 'release-record',
    'eval-report': 'eval-report',
    audit: 'audit-checkpoint',
  };
  for (const [name, purpose] of Object.entries(purposes))
    expect(charter('keys', 'generate', '--name', name, '--purpose', purpose).code).toBe(0);

  const list = JSON.parse(charter('evals', 'list', '--json').out) as {
    suites: Array<{ suite: string; suiteDigest: string; datasetDigest: string; cases: number }>;
  };
  const shipped = list.suites.find((s) => s.suite === 'kraljic-classification')!;
  const pin = (suiteDigest: string, min: number) =>
    `{ suite: kraljic-classification, metric: accuracy, min: ${min}, bound: lower, suiteDigest: '${suiteDigest}', datasetDigest: '${shipped.datasetDigest}', minCases: ${shipped.cases} }`;

  // v2's suite: same name and dataset, the strategy configured with 0.5 for every tenant, a looser threshold.
  const suitesDir = join(home, 'suites-v2');
  mkdirSync(suitesDir, { recursive: true });
  const suiteV2 = join(suitesDir, 'kraljic-classification.yaml');
  writeFileSync(
    suiteV2,
    readFileSync(contentPath('evals', 'suites', 'kraljic-classification.yaml'), 'utf8')
      .replace(
        'target: { kind: strategy, agent: kraljic-classifier }',
        'target: { kind: strategy, agent: kraljic-classifier, config: { thresholds: { profitImpact: 0.5, supplyRisk: 0.5 } } }',
      )
      .replace('- { metric: accuracy, min: 0.95 }', '- { metric: accuracy, min: 0.7 }'),
  );

  for (const [name, version, threshold] of [
    ['v1', '1.0.0', pin(shipped.suiteDigest, 0.85)],
    ['v2', '1.1.0', pin(digestOf(readFileSync(suiteV2)), 0.7)],
  ] as const) {
    manifest[name] = join(home, `${name}.manifest.json`);
    const r = charter(
      'packs',
      'compile',
      '--agent',
      AGENT,
      '--no-shipped',
      '--packs',
      packs(name, version, threshold),
      '--out',
      manifest[name],
    );
    expect(r.code, r.err).toBe(0);
  }

  v1Report = evalRun('kraljic-classification', manifest.v1);
  for (const env of ['dev', 'stg', 'prod']) promote(env, manifest.v1);
  evalRun(suiteV2, manifest.v2);
  for (const env of ['dev', 'stg']) promote(env, manifest.v2);

  gates.block = prodGates('block');
  gates.warn = prodGates('warn', 'warn');
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Gate {
  gate: string;
  unchecked?: string[];
  status: string;
  blocking: boolean;
  reasons: string[];
  warnings?: string[];
  evidence: {
    regressions?: { mode: string; against: { environment: string } | null; suites: Array<{ suite: string; regressedCases: unknown[] }> };
  };
}

const evalsGate = (out: string) => (JSON.parse(out) as { gates: Gate[] }).gates.find((g) => g.gate === 'evals')!;

interface CiOut {
  code: number | null;
  gate: Gate;
  junit: {
    testsuites: {
      failures: string;
      testsuite: { testcase: Array<{ name: string; failure?: { '#text': string }; 'system-out'?: string }> };
    };
  };
  sarif: Array<{ ruleId: string; level: string; message: { text: string } }>;
}

/** `release check --env prod` of v2 with --json, --junit and --sarif: the evals gate and both CI files. */
function checkProd(gatesDir: string, name: string): CiOut {
  const junit = join(home, 'ci', `${name}.junit.xml`);
  const sarif = join(home, 'ci', `${name}.sarif`);
  const r = charter(
    'release',
    'check',
    '--env',
    'prod',
    '--manifest',
    manifest.v2,
    '--gates',
    gatesDir,
    '--json',
    '--junit',
    junit,
    '--sarif',
    sarif,
  );
  return {
    code: r.code,
    gate: evalsGate(r.out),
    junit: new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(junit, 'utf8')) as CiOut['junit'],
    sarif: (JSON.parse(readFileSync(sarif, 'utf8')) as { runs: Array<{ results: CiOut['sarif'] }> }).runs[0]!.results,
  };
}

describe('eval regressions against the current prod release', { timeout: 300_000 }, () => {
  it('block (the shipped prod gate): a significant regression fails the evals gate, listing the cases, in text, JSON, JUnit and SARIF', () => {
    const text = charter('release', 'check', '--env', 'prod', '--manifest', manifest.v2, '--gates', gates.block);
    expect(text.code, text.err).toBe(1);
    expect(text.out).toMatch(/blocked by: evals/);
    expect(text.out).toMatch(/kraljic-classification\/accuracy: significant regression against prod's current release/);
    expect(text.out).toMatch(/McNemar exact p=\S+, 33 worse \/ 0 better of 240 paired cases/);
    expect(text.out).toMatch(/kc-\d{4} 1 -> 0/);

    const { code, gate: g, junit, sarif } = checkProd(gates.block, 'block');
    expect(code).toBe(1);
    expect(g).toMatchObject({ status: 'fail', blocking: true });
    expect(g.reasons.join('\n')).toMatch(/kraljic-classification\/accuracy: significant regression/);
    expect(g.evidence.regressions).toMatchObject({ mode: 'block', against: { environment: 'prod' } });
    expect(g.evidence.regressions!.suites[0]!.regressedCases).toHaveLength(33);
    const failed = junit.testsuites.testsuite.testcase.filter((c) => c.failure);
    expect(failed.map((c) => c.name)).toEqual(['evals']);
    expect(failed[0]!.failure!['#text']).toMatch(/significant regression/);
    expect(sarif.map((r) => [r.ruleId, r.level])).toEqual([['release/evals', 'error']]);
    expect(sarif[0]!.message.text).toMatch(/kc-\d{4} 1 -> 0/);
  });

  it('warn: the same regression passes the gate and is shown as a warning', () => {
    const text = charter('release', 'check', '--env', 'prod', '--manifest', manifest.v2, '--gates', gates.warn);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/1 significant regression\(s\) against prod's current release \(warn only\)/);
    expect(text.out).toMatch(/warning: kraljic-classification\/accuracy: significant regression/);

    const { code, gate: g, junit, sarif } = checkProd(gates.warn, 'warn');
    expect(code).toBe(0);
    expect(g).toMatchObject({ status: 'pass', blocking: false, reasons: [] });
    expect(g.warnings!.join('\n')).toMatch(/McNemar exact p=\S+, 33 worse \/ 0 better of 240 paired cases/);
    expect(g.evidence.regressions).toMatchObject({ mode: 'warn' });
    expect(Number(junit.testsuites.failures)).toBe(0);
    expect(junit.testsuites.testsuite.testcase.find((c) => c.name === 'evals')!['system-out']).toMatch(/significant regression/);
    expect(sarif.map((r) => [r.ruleId, r.level])).toEqual([['release/evals', 'warning']]);
  });

  it('a released report that cannot be found leaves the regressions unchecked (not-run, blocking), never a silent pass', () => {
    renameSync(v1Report, `${v1Report}.moved`);
    try {
      const r = charter('release', 'check', '--env', 'prod', '--manifest', manifest.v2, '--gates', gates.block, '--json');
      expect(r.code).toBe(1);
      const g = evalsGate(r.out);
      expect(g).toMatchObject({ status: 'not-run', blocking: true, unchecked: ['evals:kraljic-classification/regressions'] });
      expect(g.reasons.join('\n')).toMatch(/that prod's current release went out with is not found .*: regressions not checked/);
    } finally {
      renameSync(`${v1Report}.moved`, v1Report);
    }
  });
});
