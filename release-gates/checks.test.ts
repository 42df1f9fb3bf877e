import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentPath, readText } from '../common/index.js';
import { digestOf } from '../signing/index.js';
import { compileManifest, Workspace, type Manifest } from '../policy-packs/index.js';
import { cedarFindings, scanText, shannonEntropy } from './index.js';
import { checkTests } from './check-tests.js';
import { assessNpmAudit } from './dependency-audit.js';
import { checkSecrets } from './secret-scan.js';

const FIXTURES = contentPath('release-gates', 'fixtures');
const base = compileManifest(new Workspace(contentPath('gateway', 'fixtures', 'packs')), 'spot-bidding').manifest;
const tmp = mkdtempSync(join(tmpdir(), 'charter-checks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fixture manifest with extra policies (as the intent pack would add them). */
function withPolicies(extra: Record<string, string>): Manifest {
  const policies = { ...base.policies };
  for (const [id, text] of Object.entries(extra))
    policies[id] = { pack: 'spot-bidding', file: 'intent/spot-bidding/policies/extra.cedar', text, sha256: digestOf(text) };
  return { ...base, policies };
}

describe('secret scan', () => {
  it('finds credentials by pattern, by assignment and by entropy, with file and line', () => {
    const text = [
      'tenant: acme',
      'aws_access_key_id = AKIAQ3EGRT5XKJ7ZPW2M',
      '-----BEGIN PRIVATE KEY-----',
      'api_key: "hT9kQ2vX8mZ4pL6wR1sY"',
      'note: token sk-ant-api03-Zx9Qm3Lw8Rt2Yv6Nb4Kp1Hs7Jd5Gf0Ac',
      'session: Qm9yZXN0IGZpcmUgYXQgbWlkbmlnaHQ7IGJyaW5nIHRoZSBrZXlz',
    ].join('\n');
    const found = scanText(text, 'config.yaml', 4.5);
    const byLine = (line: number) => found.filter((f) => f.line === line).map((f) => f.rule);
    expect(byLine(1)).toEqual([]);
    expect(byLine(2)).toContain('aws-access-key-id');
    expect(byLine(3)).toEqual(['private-key']);
    expect(byLine(4)).toContain('credential-assignment');
    expect(byLine(5)).toContain('anthropic-or-openai-key');
    expect(byLine(6)).toContain('high-entropy-string');
    expect(found.every((f) => f.file === 'config.yaml' && !f.redacted.includes('XKJ7ZPW'))).toBe(true);
  });

  it('leaves digests, ids, prose and reviewed lines alone', () => {
    const text = [
      `digest: ${digestOf('x')}`,
      'id: 0192f4c8-7b1e-7c3a-9d2e-4f5a6b7c8d9e',
      'description: Solicits and records spot bids; may award and terminate with approvals.',
      'uid: Procurement::Negotiation::"acme-negotiation-2024-q3-steel"',
      'fixture_token: Xk29LmQ8pRt5Vw3Zy7Bn1Hc4Jd6Gf0Sa  # charter:allow-secret (test fixture)',
    ].join('\n');
    expect(scanText(text, 'data.yaml', 4.5)).toEqual([]);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });

  it('scans the manifest and the given folders; the shipped packs and datasets are clean', () => {
    expect(checkSecrets(base, [contentPath('policy-packs', 'packs'), contentPath('datasets')], 4.5)).toMatchObject({ status: 'pass' });
    writeFileSync(join(tmp, 'leak.env'), 'GITHUB_TOKEN=ghp_R2x9Lm4Qp8Zt6Vw1Yb3Nc5Hd7Jf0Kg2Sa4Ue\n');
    const leaked = checkSecrets(
      withPolicies({
        'spot-bidding.note': '// key AKIAQ3EGRT5XKJ7ZPW2M\n@id("spot-bidding.note")\nforbid (principal, action, resource) when { false };',
      }),
      [join(tmp, 'leak.env')],
      4.5,
    );
    expect(leaked.status).toBe('fail');
    expect(leaked.reasons.join('\n')).toMatch(
      /manifest:policies\["spot-bidding\.note"\] \(intent\/spot-bidding\/policies\/extra\.cedar\):1: aws-access-key-id/,
    );
    expect(leaked.reasons.join('\n')).toMatch(/leak\.env:1: github-token ghp_/);
  });
});

describe('Cedar findings', () => {
  it('flags a permit with no condition that reaches a write-high or critical tool, by action, by tier group or by any action', () => {
    const m = withPolicies({
      'spot-bidding.award': 'permit (principal, action == Procurement::Action::"award_contract", resource);',
      'spot-bidding.critical': 'permit (principal, action in [Charter::Action::"tier:critical"], resource);',
      'spot-bidding.anything': 'permit (principal, action, resource is Procurement::Supplier);',
    });
    const found = Object.fromEntries(cedarFindings(m).map((f) => [f.policy, f.tools]));
    expect(cedarFindings(m).every((f) => f.rule === 'unconditional-permit-on-high-risk-tool')).toBe(true);
    expect(found).toEqual({
      'spot-bidding.award': ['award_contract'],
      'spot-bidding.critical': ['terminate_supplier'],
      'spot-bidding.anything': ['award_contract', 'terminate_supplier', 'update_tenant_config'].filter((t) =>
        base.tools.some((x) => x.name === t),
      ),
    });
  });

  it('flags a permit whose conditions are constant, however they are written', () => {
    const constant = {
      'spot-bidding.when-true': 'permit (principal, action == Procurement::Action::"award_contract", resource) when { true };',
      'spot-bidding.unless-false': 'permit (principal, action == Procurement::Action::"award_contract", resource) unless { false };',
      'spot-bidding.arith':
        'permit (principal, action == Procurement::Action::"terminate_supplier", resource) when { 1 + 1 == 2 } unless { "a" like "b*" };',
      'spot-bidding.if':
        'permit (principal, action in [Charter::Action::"tier:critical"], resource) when { if true then [1].contains(1) else false };',
    };
    const findings = cedarFindings(withPolicies(constant));
    expect(findings.map((f) => [f.policy, f.rule]).sort()).toEqual(
      Object.keys(constant)
        .sort()
        .map((id) => [id, 'constant-condition-permit-on-high-risk-tool']),
    );
    expect(findings[0]!.message).toMatch(/condition is constant/);
    // One condition that reads the request is enough to make the permit conditional.
    const mixed = withPolicies({
      'spot-bidding.mixed':
        'permit (principal, action == Procurement::Action::"award_contract", resource) when { true } when { context.approval.distinctApprovers >= 1 };',
    });
    expect(cedarFindings(mixed)).toEqual([]);
  });

  it('does not flag conditioned permits, forbids or permits on read and write-low tools', () => {
    const m = withPolicies({
      'spot-bidding.read-all': 'permit (principal, action in Charter::Action::"tier:read", resource);',
      'spot-bidding.bids': 'permit (principal, action == Procurement::Action::"submit_bid", resource);',
      'spot-bidding.award-approved':
        'permit (principal, action == Procurement::Action::"award_contract", resource) when { context.approval.distinctApprovers >= 1 };',
      'spot-bidding.no-terminate': 'forbid (principal, action == Procurement::Action::"terminate_supplier", resource);',
    });
    expect(cedarFindings(m)).toEqual([]);
    expect(cedarFindings(base)).toEqual([]);
  });
});

describe('test evidence', () => {
  it('passes a green vitest report and fails a red one naming the failed test', () => {
    expect(checkTests(base, { reportFile: join(FIXTURES, 'vitest-report-pass.json'), minCases: 1 })).toMatchObject({
      status: 'pass',
      summary: 'vitest: 3/3 passed, 0 failed',
    });
    const red = checkTests(base, { reportFile: join(FIXTURES, 'vitest-report-fail.json'), minCases: 1 });
    expect(red.status).toBe('fail');
    expect(red.reasons).toEqual(['1 test(s) failed', '/repo/gateway/decide.test.ts: tenant forgery is denied']);
  });

  it('reads `charter packs test --json` output, and fails with no evidence at all', () => {
    const file = join(tmp, 'packs-test.json');
    writeFileSync(
      file,
      JSON.stringify({
        ok: false,
        cases: 40,
        failures: [{ key: 'base/tests/tiers.yaml#3' }],
        coveragePercent: 91.5,
        packs: [],
        policies: [],
      }),
    );
    expect(checkTests(base, { reportFile: file, minCases: 1 })).toMatchObject({
      status: 'fail',
      reasons: ['1 pack test(s) failed', 'base/tests/tiers.yaml#3'],
    });
    expect(checkTests(base, { minCases: 1 })).toMatchObject({ status: 'fail', summary: 'no test evidence' });
  });

  it('refuses to test a packs folder that is not what the manifest was compiled from', () => {
    const r = checkTests(base, { packs: { own: [], shipped: contentPath('policy-packs', 'packs') }, minCases: 1 });
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/are not what the manifest was compiled from/);
  });
});

describe('dependency audit', () => {
  const run = (file: string) => ({ stdout: readText(join(FIXTURES, file)), stderr: '', error: null });

  it('is not-run (never a pass) when the advisory database cannot be asked', () => {
    const r = assessNpmAudit(run('npm-audit-405.json'), 'high');
    expect(r.status).toBe('not-run');
    expect(r.reasons[0]).toMatch(/405 Method Not Allowed/);
    expect(assessNpmAudit({ stdout: '', stderr: '', error: 'spawn npm ENOENT' }, 'high')).toMatchObject({
      status: 'not-run',
      reasons: ['spawn npm ENOENT'],
    });
  });

  it('fails on vulnerabilities at or above the threshold and passes below it', () => {
    expect(assessNpmAudit(run('npm-audit-findings.json'), 'high')).toMatchObject({ status: 'fail', reasons: ['event-stream: critical'] });
    const moderate = JSON.parse(readText(join(FIXTURES, 'npm-audit-findings.json')));
    delete moderate.vulnerabilities['event-stream'];
    moderate.metadata.vulnerabilities.critical = 0;
    expect(assessNpmAudit({ stdout: JSON.stringify(moderate), stderr: '', error: null }, 'high')).toMatchObject({
      status: 'pass',
      summary: 'npm audit: 1 moderate (fails on high and above)',
    });
  });
});
