import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLog } from '../audit/index.js';
import { FindingError, packageRoot } from '../common/index.js';
import { loadReport, runEval, type EvalRunResult } from '../evals/index.js';
import { addTrustedKeys, generateEd25519Key, loadPrivateKey, loadTrustedKeys, LocalKeySigner } from '../signing/index.js';

let home: string;
let signer: LocalKeySigner;
let trustedKeysFile: string;
let baseline: EvalRunResult;
let degraded: EvalRunResult;
const degradedSuite = join(packageRoot, 'evals', 'fixtures', 'kraljic-degraded.yaml');

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'charter-evals-degraded-'));
  process.env.CHARTER_HOME = home;
  const key = generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']);
  trustedKeysFile = join(home, 'keys', 'trusted-keys.json');
  addTrustedKeys(trustedKeysFile, [key.trusted]);
  signer = new LocalKeySigner(loadPrivateKey(key.privateKeyFile));
  baseline = await runEval({ suite: 'kraljic-classification', signer, home, audit: null });
  degraded = await runEval({ suite: degradedSuite, signer, home, audit: null, baseline: { file: baseline.files.report, trustedKeysFile } });
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('a deliberately degraded target', () => {
  it('the healthy target passes its gate', () => {
    expect(baseline.report.verdict).toBe('pass');
    expect(baseline.report.metrics.find((m) => m.name === 'accuracy')).toMatchObject({ estimate: 1, method: 'wilson' });
  });

  it('fails its gate on the lower bound', () => {
    expect(degraded.report.verdict).toBe('fail');
    const t = degraded.report.thresholds.find((x) => x.metric === 'accuracy')!;
    expect(t.verdict).toBe('fail');
    const m = degraded.report.metrics.find((x) => x.name === 'accuracy')!;
    expect(t.observed).toBe(m.low);
    expect(m.low!).toBeLessThan(m.estimate!);
  });

  it('lists exactly the regressed cases, each with the reason, and a paired McNemar test', () => {
    const b = degraded.report.baseline!;
    const failedNow = degraded.report.cases.filter((c) => !c.scores.accuracy!.pass).map((c) => c.id);
    expect(failedNow.length).toBeGreaterThan(10);
    expect(b.regressions.map((r) => r.id)).toEqual([...failedNow].sort());
    expect(b.regressions[0]).toMatchObject({ metric: 'accuracy', baseline: 1, current: 0 });
    expect(b.regressions[0]!.reason).toMatch(/^got "[A-Za-z-]+", expected "[A-Za-z-]+"$/);
    // Only acme, initech and umbrella cases can regress: globex already uses these thresholds.
    const byId = new Map(degraded.report.cases.map((c) => [c.id, c]));
    for (const r of b.regressions) expect((byId.get(r.id)!.output as { categoryId: string }).categoryId).not.toMatch(/^globex-/);
    const test = b.tests.find((x) => x.metric === 'accuracy')!;
    expect(test).toMatchObject({ test: 'mcnemar-exact', pairs: 240, worse: failedNow.length, better: 0 });
    expect(test.pValue).toBeLessThan(1e-3);
    expect(test.high).toBeLessThan(0);
    expect(b.datasetChanged).toBe(false);
  });

  it('says so in the Markdown summary', () => {
    const md = readFileSync(degraded.files.markdown, 'utf8');
    expect(md).toContain('# Eval report: kraljic-classification — FAIL');
    expect(md).toContain('### Regressed cases');
    expect(md).toContain(degraded.report.baseline!.regressions[0]!.id);
  });
});

describe('signed reports', () => {
  it('verify with the eval-report key and carry dataset digests', () => {
    const loaded = loadReport(baseline.files.report, loadTrustedKeys(trustedKeysFile));
    expect(loaded.digest).toBe(baseline.digest);
    expect(loaded.report.datasets[0]).toMatchObject({ ref: 'kraljic-classification@v1', cases: 240 });
    expect(loaded.report.datasets[0]!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The engine the report names is the promptfoo this run loaded, as the lock pins it.
    expect(loaded.report.engine.promptfoo).toBe(installedPromptfooVersion());
  });

  it('a tampered report does not verify', () => {
    const env = JSON.parse(readFileSync(baseline.files.report, 'utf8')) as { payload: string };
    const payload = Buffer.from(env.payload, 'base64').toString('utf8').replace('"verdict":"pass"', '"verdict":"fail"');
    const tampered = join(home, 'tampered.dsse.json');
    writeFileSync(tampered, JSON.stringify({ ...env, payload: Buffer.from(payload).toString('base64') }));
    expect(() => loadReport(tampered, loadTrustedKeys(trustedKeysFile))).toThrow(FindingError);
  });

  it('are appended to the audit log as evidence', { timeout: 180_000 }, async () => {
    const auditKey = generateEd25519Key(join(home, 'keys'), 'audit', ['audit-checkpoint']);
    const audit = await openAuditLog({
      dir: join(home, 'audit'),
      signer: new LocalKeySigner(loadPrivateKey(auditKey.privateKeyFile)),
      origin: 'charter.test/evals',
    });
    try {
      const r = await runEval({ suite: 'bid-evaluation', signer, home, audit });
      expect(r.auditSeq).toBe(0);
      expect(audit.size).toBe(1);
    } finally {
      await audit.close();
    }
  });
});

/** The promptfoo version package-lock.json pins (read independently of the code under test). */
function installedPromptfooVersion(): string {
  const lock = JSON.parse(readFileSync(join(packageRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>;
  };
  return lock.packages['node_modules/promptfoo']!.version;
}
