import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath, packageRoot, readText, writeFileAtomic } from '../common/index.js';
import {
  addTrustedKeys,
  canonicalJson,
  digestOf,
  generateEd25519Key,
  loadPrivateKey,
  loadTrustedKeys,
  LocalKeySigner,
  signEnvelope,
  type KeyPurpose,
} from '../signing/index.js';
import { openAuditLog, queryAudit, type AuditLog } from '../audit/index.js';
import { EVAL_REPORT_PAYLOAD_TYPE, EvalReport } from '../evals/index.js';
import {
  compileManifest,
  envelopeText,
  loadVerifiedManifest,
  signManifest,
  Workspace,
  type VerifiedManifest,
} from '../policy-packs/index.js';
import { ApprovalStore, DecisionPath, EntityDirectory } from '../gateway/index.js';
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { startAgentCoreControl, type AgentCoreControlServer } from './servers/agentcore-control.js';
import {
  approveRelease,
  deployRelease,
  deployToAgentCore,
  planAgentCore,
  releaseTerraform,
  checkTerraform,
  candidateFromLowerEnvironment,
  checkRelease,
  loadReleasedManifest,
  promote,
  rollback,
  verifyReleasedManifestFile,
  verifyReleaseRecord,
  type CheckReport,
  type ReleaseOptions,
} from '../release-gates/index.js';

// Promotion dev -> stg -> prod on real parts: manifests compiled and signed by policy-packs,
// decisions made by the gateway's decision path into a real audit log, signed eval reports,
// signed approvals, and release records verified from the store and found in the audit trail.

const FIXTURE_PACKS = contentPath('gateway', 'fixtures', 'packs');
const ENTITIES = contentPath('gateway', 'fixtures', 'entities.yaml');
const TEST_REPORT = contentPath('release-gates', 'fixtures', 'vitest-report-pass.json');
const AGENT = 'spot-bidding';
const INTENT = 'intent/spot-bidding';

let home: string;
let trustedKeysFile: string;
let gatesDir: string;
let audit: AuditLog;
const keys: Record<string, string> = {};
const manifests: Record<string, VerifiedManifest & { file: string }> = {};

const signer = (name: string) => new LocalKeySigner(loadPrivateKey(keys[name]!));

/** A copy of the gateway's fixture packs with edits applied (path relative to the packs folder). */
function packsWith(name: string, edits: Record<string, (text: string) => string>): string {
  const dir = join(home, 'packs', name);
  cpSync(FIXTURE_PACKS, dir, { recursive: true });
  for (const [rel, edit] of Object.entries(edits))
    writeFileSync(join(dir, rel), edit(existsSync(join(dir, rel)) ? readFileSync(join(dir, rel), 'utf8') : ''));
  return dir;
}

async function compile(name: string, packs: string, previous?: VerifiedManifest): Promise<VerifiedManifest & { file: string }> {
  const compiled = compileManifest(new Workspace(packs), AGENT, previous);
  const file = join(home, 'manifests', `${name}.manifest.json`);
  writeFileAtomic(file, envelopeText(await signManifest(compiled, signer('manifest-signer'))));
  return (manifests[name] = { ...loadVerifiedManifest(file, trustedKeysFile), file });
}

/**
 * A signed eval report of the suite the manifest's threshold names, filed where `charter evals run`
 * files them. With `judge`, it also has a judge metric that was not run (no model), as
 * `charter evals run` reports one.
 */
async function evalReport(
  manifestDigest: string,
  lowerBound = 0.95,
  reportsHome = home,
  judge = false,
  evidence = { suite: 'suite', dataset: 'dataset', cases: 200 },
): Promise<string> {
  const now = new Date().toISOString();
  const pass = lowerBound >= 0.9 && !judge;
  const report: EvalReport = {
    apiVersion: 'charter.dev/v1',
    kind: 'EvalReport',
    id: randomUUID(),
    suite: { name: 'tool-call-safety', description: 'tool-call safety decisions', digest: digestOf(evidence.suite), repeats: 1 },
    target: {
      id: 'gateway',
      spec: { kind: 'custom' },
      manifestDigest,
      agent: AGENT,
      manifests: [{ agent: AGENT, digest: manifestDigest }],
    },
    datasets: [{ ref: 'tool-call-safety@v1', digest: digestOf(evidence.dataset), cases: evidence.cases }],
    judge: null,
    engine: { charter: '0.1.0', promptfoo: '0.121.0' },
    startedAt: now,
    finishedAt: now,
    durationMs: 1,
    usage: { targetTokens: 0, judgeTokens: 0, costUsd: null, judgeCalls: 0, judgeCacheHits: 0, targetCacheHits: 0 },
    metrics: [
      {
        name: 'decision_accuracy',
        kind: 'rate',
        status: 'ok',
        method: 'wilson',
        n: evidence.cases,
        errors: 0,
        estimate: lowerBound + 0.02,
        low: lowerBound,
        high: 0.995,
        gating: true,
        note: null,
      },
      ...(judge
        ? [
            {
              name: 'judge_score',
              kind: 'mean' as const,
              status: 'not-run' as const,
              method: null,
              n: 0,
              errors: 0,
              estimate: null,
              low: null,
              high: null,
              gating: false,
              note: 'no judge configured',
            },
          ]
        : []),
    ],
    thresholds: [
      {
        metric: 'decision_accuracy',
        min: 0.9,
        bound: 'lower',
        source: 'manifest',
        observed: lowerBound,
        verdict: lowerBound >= 0.9 ? 'pass' : 'fail',
        reason: `95% lower bound ${lowerBound}`,
      },
      ...(judge
        ? [
            {
              metric: 'judge_score',
              min: 0.8,
              bound: 'lower' as const,
              source: 'suite',
              observed: null,
              verdict: 'fail' as const,
              reason: 'metric not run (no judge configured)',
            },
          ]
        : []),
    ],
    verdict: pass ? 'pass' : 'fail',
    baseline: null,
    cases: [],
  };
  const envelope = await signEnvelope(EVAL_REPORT_PAYLOAD_TYPE, Buffer.from(canonicalJson(EvalReport.parse(report))), [
    signer('eval-signer'),
  ]);
  const file = join(reportsHome, 'reports', 'tool-call-safety', `${now.replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.dsse.json`);
  writeFileAtomic(file, JSON.stringify(envelope, null, 2));
  return file;
}

const options = (extra: ReleaseOptions = {}): ReleaseOptions => ({
  home,
  trustedKeysFile,
  gatesDir,
  testReport: TEST_REPORT,
  entitiesFile: ENTITIES,
  auditDir: join(home, 'audit'),
  ...extra,
});
const write = () => ({ signer: signer('release-signer'), audit });
const gate = (r: CheckReport, name: string) => r.gates.find((g) => g.gate === name)!;
const approve = (env: string, m: VerifiedManifest & { file: string }, approver: string, acceptReplayFlips: string[] = []) =>
  approveRelease(env, m.file, { home, trustedKeysFile, signer: signer(approver), acceptReplayFlips });

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'charter-release-'));
  trustedKeysFile = join(home, 'keys', 'trusted-keys.json');
  const make = (name: string, purposes: KeyPurpose[], trusted = true) => {
    const k = generateEd25519Key(join(home, 'keys'), name, purposes);
    if (trusted) addTrustedKeys(trustedKeysFile, [k.trusted]);
    keys[name] = k.privateKeyFile;
  };
  make('manifest-signer', ['manifest']);
  make('release-signer', ['release-record']);
  make('eval-signer', ['eval-report']);
  make('audit', ['audit-checkpoint']);
  make('release-approver-1', ['approval']);
  make('release-approver-2', ['approval']);
  make('developer', ['approval']); // trusted for approvals, but not a release approver

  // The shipped gate definitions, except that prod's dependency audit is advisory here: the
  // registry's advisory endpoint cannot be reached from the test machine (the shipped prod
  // definition failing closed on that is tested below).
  gatesDir = join(home, 'gates');
  cpSync(contentPath('release-gates', 'environments'), gatesDir, { recursive: true });
  writeFileSync(
    join(gatesDir, 'prod.yaml'),
    readText(join(gatesDir, 'prod.yaml')).replace('dependencies: { enforcement: required', 'dependencies: { enforcement: advisory'),
  );

  // Manifest thresholds pin the suite and dataset digests of the evidence (evalReport's) and a minimum case count.
  const pins = `suiteDigest: '${digestOf('suite')}', datasetDigest: '${digestOf('dataset')}', minCases: 200`;
  const threshold = (t: string) =>
    t + `  evalThresholds:\n    - { suite: tool-call-safety, metric: decision_accuracy, min: 0.9, bound: lower, ${pins} }\n`;
  const bump = (v: string) => (t: string) => t.replace('version: 1.0.0', `version: ${v}`);
  const v1Packs = packsWith('v1', { [`${INTENT}/pack.yaml`]: threshold });
  const v1 = await compile('v1', v1Packs);
  await compile(
    'v2',
    packsWith('v2', {
      [`${INTENT}/pack.yaml`]: (t) => threshold(bump('1.1.0')(t)),
      [`${INTENT}/policies/spot-bidding.cedar`]: (t) =>
        t +
        '\n@id("spot-bidding.no-terminate-for-initech")\nforbid (principal, action == Procurement::Action::"terminate_supplier", resource)\nwhen { context.tenant == Charter::Tenant::"initech" };\n',
    }),
    v1,
  );
  await compile(
    'risky',
    packsWith('risky', {
      [`${INTENT}/pack.yaml`]: (t) => threshold(bump('1.2.0')(t)),
      [`${INTENT}/policies/spot-bidding.cedar`]: (t) =>
        t +
        '\n@id("spot-bidding.award-freely")\npermit (principal == Charter::Agent::"spot-bidding", action == Procurement::Action::"award_contract", resource);\n',
    }),
    v1,
  );
  await compile(
    'base-changed',
    packsWith('base-changed', {
      'base/pack.yaml': bump('1.0.1'),
      'base/policies/base.cedar': (t) =>
        t +
        '\n@id("base.initech-no-critical")\nforbid (principal, action in Charter::Action::"tier:critical", resource)\nwhen { context.tenant == Charter::Tenant::"initech" };\n',
      [`${INTENT}/pack.yaml`]: (t) => threshold(bump('1.3.0')(t)),
    }),
    v1,
  );
  await compile(
    'same-version',
    packsWith('same-version', {
      [`${INTENT}/pack.yaml`]: threshold,
      [`${INTENT}/policies/spot-bidding.cedar`]: (t) => t + '\n// reworded, version left as it was\n',
    }),
    v1,
  );
  await compile('older', packsWith('older', { [`${INTENT}/pack.yaml`]: (t) => threshold(bump('0.9.0')(t)) }), v1);
  await compile(
    'judged',
    packsWith('judged', {
      // v1's base content again, as a new version: base-changed (1.0.1) is what dev serves by then.
      'base/pack.yaml': bump('1.0.2'),
      [`${INTENT}/pack.yaml`]: (t) =>
        threshold(bump('1.4.0')(t)) + `    - { suite: tool-call-safety, metric: judge_score, min: 0.8, bound: lower, ${pins} }\n`,
    }),
    v1,
  );
  for (const name of ['v1', 'v2', 'risky', 'base-changed']) await evalReport(manifests[name]!.digest);
  await evalReport(manifests.judged!.digest, 0.95, home, true);

  // Production traffic recorded by the gateway's decision path under v1.
  audit = await openAuditLog({ dir: join(home, 'audit'), signer: signer('audit'), origin: 'charter.test/release' });
  const path = new DecisionPath({
    manifests: [v1],
    data: EntityDirectory.load(ENTITIES),
    audit,
    approvals: new ApprovalStore(join(home, 'approvals')),
    trustedKeys: loadTrustedKeys(trustedKeysFile),
  });
  const identity = (tenantId: string) => ({ principal: `buyer@${tenantId}.example`, tenantId, agentId: AGENT });
  const calls = [
    { tenant: 'acme', tool: 'list_suppliers', args: { tenant_id: 'acme' } },
    {
      tenant: 'acme',
      tool: 'submit_bid',
      args: { tenant_id: 'acme', negotiationId: 'acme-n1', supplierId: 'acme-s1', amountCents: 1000, shippingCents: 100 },
    },
    { tenant: 'acme', tool: 'award_contract', args: { tenant_id: 'acme', negotiationId: 'acme-n1', supplierId: 'acme-s1' } },
    { tenant: 'acme', tool: 'award_contract', args: { tenant_id: 'acme', negotiationId: 'globex-n1', supplierId: 'acme-s1' } },
    { tenant: 'globex', tool: 'list_suppliers', args: { tenant_id: 'globex' } },
  ];
  for (const c of calls) await path.decide({ identity: identity(c.tenant), tool: c.tool, args: c.args });
  await audit.flush();
});

afterAll(async () => {
  await audit?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('release gates: dev -> stg -> prod', () => {
  it('promotes v1 through dev, stg and prod with all evidence, each record signed and in the audit trail', async () => {
    const v1 = manifests.v1!;
    const dev = await promote('dev', v1.file, { ...options(), ...write() });
    expect(dev.report.ok).toBe(true);
    expect(dev.signed.record).toMatchObject({
      action: 'promote',
      environment: 'dev',
      manifestDigest: v1.digest,
      replaces: null,
      promotedFrom: null,
    });
    expect(dev.signed.record.evalReports).toHaveLength(1);

    // stg takes the dev release; the canary shadows the recorded v1 traffic.
    const stgCandidate = candidateFromLowerEnvironment('stg', AGENT, { home, trustedKeysFile });
    const stg = await promote('stg', stgCandidate, { ...options(), ...write() });
    expect(stg.signed.record.promotedFrom).toEqual({ environment: 'dev', recordDigest: dev.signed.digest });
    expect(gate(stg.report, 'canary')).toMatchObject({
      status: 'pass',
      evidence: { requests: 5, flips: 0, baseline: 'recording-manifest' },
    });
    // The bid's arguments are not in the trail: v1 cannot reproduce that allow, so it is not compared.
    expect(gate(stg.report, 'replay').evidence).toMatchObject({ records: 5, replayed: 5, reproduced: 4, unreproducible: 1 });

    // prod needs an approval by a release approver; a developer's approval does not count.
    await approve('prod', v1, 'developer');
    const refused = await checkRelease('prod', v1.file, options());
    expect(refused.ok).toBe(false);
    expect(gate(refused, 'approval').reasons.join('\n')).toMatch(
      /1 distinct approver\(s\) required, 0 approved[\s\S]*developer does not hold the release approval right in prod/,
    );

    await approve('prod', v1, 'release-approver-1');
    const prod = await promote('prod', v1.file, { ...options(), ...write() });
    const r = prod.signed.record;
    expect(r.promotedFrom).toEqual({ environment: 'stg', recordDigest: stg.signed.digest });
    expect(r.approvals.map((a) => a.approver)).toEqual(['release-approver-1']);
    expect(r.evalReports[0]!.digest).toMatch(/^sha256:/);
    expect(r.canary).toMatchObject({ requests: 5, flips: 0 });
    expect(r.gates.find((g) => g.gate === 'dependencies')).toMatchObject({ enforcement: 'advisory', status: 'not-run' });

    // Verified from the store, and present in the audit trail as evidence linked to the manifest.
    const stored = verifyReleaseRecord(
      JSON.parse(readFileSync(prod.recordFile, 'utf8')),
      loadTrustedKeys(trustedKeysFile),
      prod.recordFile,
    );
    expect(stored.digest).toBe(prod.signed.digest);
    await audit.flush();
    const evidence = (await queryAudit({ dir: join(home, 'audit'), kind: 'evidence' })).filter(
      (e) => e.kind === 'evidence' && e.evidenceType === 'release-record',
    );
    expect(evidence.map((e) => (e.kind === 'evidence' ? e.digest : ''))).toEqual([
      dev.signed.digest,
      stg.signed.digest,
      prod.signed.digest,
    ]);
    expect(loadReleasedManifest('prod', AGENT, { home, trustedKeysFile }).digest).toBe(v1.digest);
  });

  it('refuses to skip an environment', async () => {
    const r = await checkRelease('stg', manifests.v2!.file, options());
    expect(gate(r, 'promotion-order')).toMatchObject({ status: 'fail', blocking: true });
    expect(gate(r, 'promotion-order').reasons[0]).toMatch(
      /stg needs a dev release of manifest sha256:\w+; dev's current release is sha256:/,
    );
  });

  it('refuses a pack whose content changed under the same version, or whose version goes back', async () => {
    const same = await checkRelease('dev', manifests['same-version']!.file, options());
    expect(gate(same, 'pack-versions')).toMatchObject({ status: 'fail', blocking: true });
    expect(gate(same, 'pack-versions').reasons).toEqual([
      expect.stringMatching(
        /^pack spot-bidding 1\.0\.0 changed without a version bump \(layer digest sha256:\w+… -> sha256:\w+…\): raise 'version' in its pack\.yaml$/,
      ),
    ]);
    const older = await checkRelease('dev', manifests.older!.file, options());
    expect(gate(older, 'pack-versions').reasons).toEqual([
      'pack spot-bidding goes back from 1.0.0 to 0.9.0: a release moves versions forward (to go back, charter release rollback)',
    ]);
    expect(gate(await checkRelease('dev', manifests.v2!.file, options()), 'pack-versions')).toMatchObject({
      status: 'pass',
      summary: 'versions move forward: spot-bidding 1.0.0 -> 1.1.0',
    });
  });

  it('refuses a candidate whose eval report belongs to another manifest, saying so', async () => {
    const other = await evalReport(manifests.v1!.digest);
    const r = await checkRelease('dev', manifests.v2!.file, options({ evalReports: [other] }));
    expect(r.ok).toBe(false);
    expect(gate(r, 'evals').reasons[0]).toBe(
      `${other}: eval report belongs to manifest ${manifests.v1!.digest}, not the candidate ${manifests.v2!.digest}`,
    );
    await expect(promote('dev', manifests.v2!.file, { ...options({ evalReports: [other] }), ...write() })).rejects.toThrow(
      /refused: evals fail \(.*belongs to manifest/,
    );
  });

  it('refuses a candidate whose eval metrics miss the manifest threshold', async () => {
    const { home: _h, ...rest } = options();
    const lowHome = mkdtempSync(join(tmpdir(), 'charter-release-low-'));
    cpSync(join(home, 'keys'), join(lowHome, 'keys'), { recursive: true });
    const low = await evalReport(manifests.v2!.digest, 0.8, lowHome);
    const r = await checkRelease('dev', manifests.v2!.file, { ...rest, home: lowHome, trustedKeysFile, evalReports: [low] });
    expect(gate(r, 'evals').reasons.join('\n')).toMatch(
      /tool-call-safety\/decision_accuracy >= 0\.9 \(lower\): 95% lower bound 0\.8000 < 0\.9/,
    );
    rmSync(lowHome, { recursive: true, force: true });
  });

  it('refuses eval evidence other than what the manifest pins: a same-named suite copy, another dataset, too few cases', async () => {
    const { home: _h, ...rest } = options();
    const cases: Array<[{ suite: string; dataset: string; cases: number }, RegExp]> = [
      [{ suite: 'a copy of the suite', dataset: 'dataset', cases: 200 }, /suite digest sha256:\w+ is not the pinned/],
      [{ suite: 'suite', dataset: 'one row', cases: 1 }, /dataset digest sha256:\w+ is not the pinned/],
      [{ suite: 'suite', dataset: 'dataset', cases: 20 }, /measured on 20 cases, the pin requires 200/],
    ];
    for (const [evidence, why] of cases) {
      const swapHome = mkdtempSync(join(tmpdir(), 'charter-release-swap-'));
      cpSync(join(home, 'keys'), join(swapHome, 'keys'), { recursive: true });
      // The report itself passes its own thresholds with a perfect lower bound.
      const swapped = await evalReport(manifests.v2!.digest, 0.99, swapHome, false, evidence);
      const r = await checkRelease('dev', manifests.v2!.file, { ...rest, home: swapHome, trustedKeysFile, evalReports: [swapped] });
      expect(gate(r, 'evals').status).toBe('fail');
      expect(gate(r, 'evals').reasons.join('\n')).toMatch(why);
      rmSync(swapHome, { recursive: true, force: true });
    }
  });

  it('promotes v2 to prod, then rolls prod back to v1 and the loader follows', async () => {
    const v2 = manifests.v2!;
    await promote('dev', v2.file, { ...options(), ...write() });
    const stg = await promote('stg', v2.file, { ...options(), ...write() });
    expect(gate(stg.report, 'canary').evidence).toMatchObject({ baseline: 'current-release', flips: 0 });
    await approve('prod', v2, 'release-approver-2');
    const prod = await promote('prod', v2.file, { ...options(), ...write() });
    expect(prod.signed.record.replaces).toBe(manifests.v1!.digest);
    expect(loadReleasedManifest('prod', AGENT, { home, trustedKeysFile }).digest).toBe(v2.digest);

    const back = await rollback('prod', AGENT, { home, trustedKeysFile, ...write(), reason: 'incident 42: award latency' });
    expect(back.signed.record).toMatchObject({
      action: 'rollback',
      manifestDigest: manifests.v1!.digest,
      replaces: v2.digest,
      previousRecordDigest: prod.signed.digest,
      reason: 'incident 42: award latency',
    });
    expect(loadReleasedManifest('prod', AGENT, { home, trustedKeysFile }).digest).toBe(manifests.v1!.digest);
    expect(() => verifyReleasedManifestFile('prod', v2.file, { home, trustedKeysFile })).toThrow(
      /is not the current prod release of spot-bidding/,
    );
    await expect(rollback('prod', AGENT, { home, trustedKeysFile, ...write(), reason: 'again' })).rejects.toThrow(
      /no earlier release to roll back to/,
    );
  });

  it('refuses a base pack change in prod with one approver, and takes it with two', async () => {
    const m = manifests['base-changed']!;
    expect(m.manifest.baseChanged).toBe(true);
    await promote('dev', m.file, { ...options(), ...write() });
    await promote('stg', m.file, { ...options(), ...write() });
    await approve('prod', m, 'release-approver-1');
    // A second key filed under the same approver's name is still one approver.
    const second = generateEd25519Key(join(home, 'keys'), 'approver-1-second-key', ['approval']);
    addTrustedKeys(trustedKeysFile, [{ ...second.trusted, name: 'release-approver-1' }]);
    keys['approver-1-second-key'] = second.privateKeyFile;
    await approve('prod', m, 'approver-1-second-key');
    await expect(promote('prod', m.file, { ...options(), ...write() })).rejects.toThrow(
      /refused: approval fail \(base pack changed \(the manifest records a base pack change \(baseChanged\); the base digest differs from the current release's .*\): 2 distinct approvers required, 1 approved\)/,
    );
    await approve('prod', m, 'release-approver-2');
    const prod = await promote('prod', m.file, { ...options(), ...write() });
    expect([...new Set(prod.signed.record.approvals.map((a) => a.approver))].sort()).toEqual(['release-approver-1', 'release-approver-2']);
  });

  it('blocks a deny -> allow replay flip on a write-high tool unless an approver accepts it', async () => {
    const risky = manifests.risky!;
    const r = await checkRelease('stg', risky.file, options());
    const replay = gate(r, 'replay');
    expect(replay).toMatchObject({ status: 'fail', blocking: true });
    expect(replay.reasons).toHaveLength(1);
    expect(replay.reasons[0]).toMatch(
      /^deny -> allow flip on write-high tool award_contract \(acme, Procurement::Negotiation::"acme-n1", record [0-9a-f-]+\) by spot-bidding\.award-freely: not approved$/,
    );
    expect(replay.evidence).toMatchObject({ flips: { denyToAllow: 1, allowToDeny: 0 } });
    // The static check sees the same permit.
    expect(gate(r, 'cedar').reasons[0]).toMatch(/spot-bidding\.award-freely .*permit with no condition on award_contract \(write-high\)/);

    const recordId = /record ([0-9a-f-]+)\)/.exec(replay.reasons[0]!)![1]!;
    await approve('stg', risky, 'release-approver-1', [recordId]);
    const accepted = await checkRelease('stg', risky.file, options());
    expect(gate(accepted, 'replay')).toMatchObject({ status: 'pass' });
    expect(accepted.ok).toBe(false); // cedar and promotion order still block
  });

  it('fails closed on the shipped prod definition when the dependency audit cannot run, until release approvers waive it', async () => {
    const { gatesDir: _g, ...rest } = options();
    const r = await checkRelease('prod', manifests.v2!.file, rest);
    const deps = gate(r, 'dependencies');
    expect(deps.enforcement).toBe('required');
    if (deps.status !== 'not-run') return expect(deps.evidence).toHaveProperty('counts');
    // prod serves the base-changed manifest, so v2 changes the base back: a waiver, like the release, needs two approvers.
    expect(deps).toMatchObject({
      blocking: true,
      waiver: null,
      reasons: expect.arrayContaining([
        expect.stringMatching(
          /^not checked and not waived: dependencies \(0\/2 approver waiver\(s\); charter release approve --waive dependencies/,
        ),
      ]),
    });
    const waive = (approver: string) =>
      approveRelease('prod', manifests.v2!.file, {
        home,
        trustedKeysFile,
        signer: signer(approver),
        waivers: [{ check: 'dependencies', reason: 'advisory endpoint refuses (405); audited upstream' }],
      });
    await waive('release-approver-1');
    expect(gate(await checkRelease('prod', manifests.v2!.file, rest), 'dependencies').blocking).toBe(true);
    await waive('release-approver-2');
    const waived = gate(await checkRelease('prod', manifests.v2!.file, rest), 'dependencies');
    expect(waived).toMatchObject({
      status: 'not-run',
      blocking: false,
      waiver: {
        approvers: ['release-approver-1', 'release-approver-2'],
        items: [
          {
            check: 'dependencies',
            reasons: [
              'release-approver-1: advisory endpoint refuses (405); audited upstream',
              'release-approver-2: advisory endpoint refuses (405); audited upstream',
            ],
          },
        ],
      },
    });
  });

  it('holds a candidate whose judge metric was not measured until an entitled approver waives that metric by name', async () => {
    const m = manifests.judged!;
    const held = gate(await checkRelease('dev', m.file, options()), 'evals');
    expect(held).toMatchObject({ status: 'not-run', blocking: true, unchecked: ['evals:tool-call-safety/judge_score'], waiver: null });
    // dev serves the base-changed manifest and this one has v1's base (as 1.0.2): two approvers, as for the release itself.
    expect(held.reasons).toEqual([
      'evals:tool-call-safety/judge_score: metric not run (no judge configured)',
      'not checked and not waived: evals:tool-call-safety/judge_score (0/2 approver waiver(s); charter release approve --waive evals:tool-call-safety/judge_score --note <why>)',
    ]);
    // Waivers by someone without the release right, or of another item, count for nothing.
    const waive = (approver: string, check: string, reason: string) =>
      approveRelease('dev', m.file, { home, trustedKeysFile, signer: signer(approver), waivers: [{ check, reason }] });
    await waive('developer', 'evals:tool-call-safety/judge_score', 'no model on my laptop');
    await waive('release-approver-1', 'evals:tool-call-safety/decision_accuracy', 'wrong item');
    await waive('release-approver-1', 'evals:tool-call-safety/judge_score', 'offline: no judge model; judged before stg');
    expect(gate(await checkRelease('dev', m.file, options()), 'evals').reasons.at(-1)).toMatch(/\(1\/2 approver waiver/);
    await waive('release-approver-2', 'evals:tool-call-safety/judge_score', 'agreed');
    const dev = await promote('dev', m.file, { ...options(), ...write() });
    expect(dev.signed.record.gates.find((g) => g.gate === 'evals')).toMatchObject({
      status: 'not-run',
      waiver: {
        approvers: ['release-approver-1', 'release-approver-2'],
        items: [
          {
            check: 'evals:tool-call-safety/judge_score',
            reasons: ['release-approver-1: offline: no judge model; judged before stg', 'release-approver-2: agreed'],
          },
        ],
      },
    });
    expect([...new Set(dev.signed.record.approvals.map((a) => a.approver))].sort()).toEqual(['release-approver-1', 'release-approver-2']);
  });

  it('never waives a measured failure', async () => {
    const m = manifests.judged!;
    const lowHome = mkdtempSync(join(tmpdir(), 'charter-release-low-'));
    const low = await evalReport(m.digest, 0.8, lowHome, true);
    await approveRelease('stg', m.file, {
      home,
      trustedKeysFile,
      signer: signer('release-approver-1'),
      waivers: [
        { check: 'evals:tool-call-safety/decision_accuracy', reason: 'ship it' },
        { check: 'evals:tool-call-safety/judge_score', reason: 'no model' },
      ],
    });
    const evals = gate(await checkRelease('stg', m.file, options({ evalReports: [low] })), 'evals');
    expect(evals).toMatchObject({ status: 'fail', blocking: true, waiver: null });
    expect(evals.reasons.join('\n')).toMatch(/tool-call-safety\/decision_accuracy >= 0\.9 \(lower\): 95% lower bound 0\.8/);
    rmSync(lowHome, { recursive: true, force: true });
  });
});

describe('deploy: AgentCore through the real SDK against the local control plane, and Terraform', () => {
  let server: AgentCoreControlServer;
  const saved: Record<string, string | undefined> = {};
  const settings = {
    roleArn: 'arn:aws:iam::123456789012:role/charter-agents',
    containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/charter/{agent}:1.0.0',
    discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration',
    allowedAudience: ['charter-gateway'],
    toolsUrl: 'https://charter-gateway.example.com/mcp',
    auditBucket: 'charter-audit',
    mode: 'ENFORCE' as const,
  };
  const env = {
    AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL: '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIALOCALTEST0000000',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret',
  };
  const at = { home: '', trustedKeysFile: '', pollMs: 10 };
  const client = () =>
    new BedrockAgentCoreControlClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });

  beforeAll(async () => {
    // A page size of 2 makes every list call page.
    server = await startAgentCoreControl({ pageSize: 2 });
    env.AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL = server.endpoint;
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    Object.assign(at, { home, trustedKeysFile });
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server?.close();
  });

  it('creates the policy engine, gateway, one policy per tool and the runtime of the released manifest; a second deploy writes nothing', async () => {
    const released = loadReleasedManifest('prod', AGENT, at);
    const d = (await deployRelease('prod', AGENT, settings, at))[0]!.deployment;
    expect([d.policyEngine.action, d.gateway.action, d.runtime.action]).toEqual(['created', 'created', 'created']);
    expect(d.targets).toMatchObject([{ name: 'procurement', tools: released.manifest.tools.length, action: 'created' }]);
    expect(d.policies.map((p) => p.action)).toEqual(released.manifest.tools.map(() => 'created'));
    expect(server.state.gateways.get(d.gateway.id)).toMatchObject({
      policyEngineConfiguration: { arn: d.policyEngine.arn, mode: 'ENFORCE' },
      authorizerType: 'CUSTOM_JWT',
    });
    const statements = [...server.state.policies.get(d.policyEngine.id)!.values()].map(
      (p) => (p.definition as { cedar: { statement: string } }).cedar.statement,
    );
    expect(statements).toHaveLength(released.manifest.tools.length);
    expect(statements.find((t) => t.includes('AgentCore::Action::"procurement___award_contract"'))).toContain(
      `resource == AgentCore::Gateway::"${d.gateway.arn}"`,
    );
    expect(server.state.runtimes.get(d.runtime.id)).toMatchObject({
      agentRuntimeArtifact: {
        containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/charter/spot-bidding:1.0.0' },
      },
      environmentVariables: {
        CHARTER_ENVIRONMENT: 'prod',
        CHARTER_MANIFEST_DIGEST: released.digest,
        CHARTER_RELEASE_RECORD_DIGEST: released.record.digest,
      },
    });

    const before = server.requests.length;
    const [again] = await deployRelease('prod', AGENT, settings, at);
    expect(
      [
        again!.deployment.policyEngine.action,
        again!.deployment.gateway.action,
        again!.deployment.runtime.action,
        ...again!.deployment.targets.map((t) => t.action),
        ...again!.deployment.policies.map((p) => p.action),
      ].every((a) => a === 'unchanged'),
    ).toBe(true);
    // ListAgentRuntimes is a POST; nothing else may write.
    expect(server.requests.slice(before).filter((r) => r.method !== 'GET' && !(r.method === 'POST' && r.path === '/runtimes/'))).toEqual(
      [],
    );
  });

  it('after a rollback, a redeploy moves the runtime and the policies to the new current release', async () => {
    const back = await rollback('prod', AGENT, { home, trustedKeysFile, ...write(), reason: 'base change regressed awards' });
    const d = (await deployRelease('prod', AGENT, settings, at))[0]!.deployment;
    expect(d.runtime).toMatchObject({ action: 'updated', version: '2' });
    expect(d.policies.every((p) => p.action === 'updated')).toBe(true);
    expect(server.state.runtimes.get(d.runtime.id)!.environmentVariables).toMatchObject({
      CHARTER_MANIFEST_DIGEST: back.signed.record.manifestDigest,
      CHARTER_RELEASE_RECORD_DIGEST: back.signed.digest,
    });
  });

  it('removes the policy of a tool the manifest no longer has', async () => {
    const plan = planAgentCore(loadReleasedManifest('prod', AGENT, at), 'prod', settings);
    const d = await deployToAgentCore({ ...plan, policies: plan.policies.slice(1) }, client(), { pollMs: 10 });
    expect(d.policies.filter((p) => p.action === 'deleted').map((p) => p.name)).toEqual([plan.policies[0]!.name]);
  });

  it('reports a policy the service rejects with its reasons, and refuses an agent with no release', async () => {
    const plan = planAgentCore(loadReleasedManifest('prod', AGENT, at), 'prod', settings);
    const foreign = {
      name: 'charter_spot_bidding_foreign',
      description: 'not in the gateway schema',
      statement: () => 'permit (principal, action == Charter::Action::"tier:read", resource);',
    };
    await expect(deployToAgentCore({ ...plan, policies: [foreign] }, client(), { pollMs: 10 })).rejects.toThrow(
      /policy charter_spot_bidding_foreign is CREATE_FAILED: .*Charter::Action/,
    );
    await expect(deployRelease('prod', 'kraljic-classifier', settings, at)).rejects.toThrow(
      /kraljic-classifier has no release in prod: refusing to load an unreleased manifest/,
    );
  });

  it('deploys, reports status and emits Terraform through the built CLI', async () => {
    // Asynchronous: the control-plane server runs in this process and must keep answering.
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), ...args], {
          env: { ...process.env, CHARTER_HOME: home },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const aws = [
      ...['--role-arn', settings.roleArn, '--container-uri', settings.containerUri],
      ...['--discovery-url', settings.discoveryUrl, '--tools-url', settings.toolsUrl],
    ];
    const deployed = await cli('release', 'deploy', '--env', 'prod', '--agent', AGENT, ...aws, '--json');
    expect(deployed.status, deployed.stderr).toBe(0);
    const out = JSON.parse(deployed.stdout) as {
      manifestDigest: string;
      deployments: Array<{ deployment: { policies: Array<{ action: string }>; runtime: { action: string } } }>;
    };
    expect(out.manifestDigest).toBe(loadReleasedManifest('prod', AGENT, at).digest);
    // The policy removed two tests ago comes back, the rejected foreign one (this agent's prefix,
    // not in the plan) is removed, everything else is already in place.
    expect(out.deployments[0]!.deployment.policies.map((p) => p.action).sort()).toEqual([
      'created',
      'deleted',
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
    // Through the CLI too, a second deploy of the same release changes nothing.
    const again = JSON.parse((await cli('release', 'deploy', '--env', 'prod', '--agent', AGENT, ...aws, '--json')).stdout) as typeof out;
    const d2 = again.deployments[0]!.deployment;
    expect([d2.runtime.action, ...d2.policies.map((p) => p.action)].every((a) => a === 'unchanged')).toBe(true);
    const status = await cli('release', 'status', '--env', 'prod', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({
      ok: true,
      environment: 'prod',
      releases: [{ agent: AGENT, action: 'rollback', manifestDigest: out.manifestDigest }],
    });
    const tf = await cli('release', 'terraform', '--env', 'prod', ...aws, '--mode', 'LOG_ONLY');
    expect(tf.status).toBe(0);
    expect(tf.stdout).toContain('"mode": "LOG_ONLY"');
    expect((await cli('release', 'terraform', '--env', 'prod', ...aws, '--mode', 'SHADOW')).status).toBe(2);
  }, 120_000);

  it('emits Terraform JSON for the same resources, which passes the provider schema check; bad output fails it', () => {
    const tf = releaseTerraform('prod', settings, at);
    const released = loadReleasedManifest('prod', AGENT, at);
    expect(checkTerraform(tf)).toEqual([]);
    const r = tf.resource;
    expect(Object.keys(r.aws_bedrockagentcore_policy!)).toHaveLength(released.manifest.tools.length);
    expect(r.aws_bedrockagentcore_gateway!.charter_prod!.policy_engine_configuration).toEqual([
      { arn: '${aws_bedrockagentcore_policy_engine.charter_prod.policy_engine_arn}', mode: 'ENFORCE' },
    ]);
    const statement = JSON.stringify(Object.values(r.aws_bedrockagentcore_policy!)[0]);
    expect(statement).toContain('resource == AgentCore::Gateway::\\"${aws_bedrockagentcore_gateway.charter_prod.gateway_arn}\\"');
    expect(statement).toContain('principal.getTag(\\"agentId\\") == \\"spot-bidding\\"');
    expect(r.aws_s3_bucket_object_lock_configuration!.audit_charter_audit!.rule).toEqual([
      { default_retention: [{ mode: 'COMPLIANCE', years: 7 }] },
    ]);
    expect(Object.keys(r.aws_kms_key!).sort()).toEqual(['audit', 'manifest_signing', 'release_signing', 'state']);
    expect(Object.keys(r.aws_dynamodb_table!).sort()).toEqual(['idempotency', 'negotiations']);
    expect(r.aws_cloudwatch_event_target!.requisition!.arn).toBe('${aws_sfn_state_machine.negotiation.arn}');
    const runtime = Object.values(r.aws_bedrockagentcore_agent_runtime!)[0]!;
    expect(runtime.environment_variables).toMatchObject({ CHARTER_MANIFEST_DIGEST: released.digest });
    // Each kind of bad output is a finding: an argument the provider does not have, a missing
    // required one, a reference to nothing, a computed attribute set.
    const broken = structuredClone(tf);
    broken.resource.aws_kms_key!.audit!.key_purpose = 'audit';
    delete broken.resource.aws_iam_role!.gateway!.assume_role_policy;
    broken.resource.aws_cloudwatch_event_target!.requisition!.arn = '${aws_sfn_state_machine.missing.arn}';
    broken.resource.aws_bedrockagentcore_gateway!.charter_prod!.gateway_url = 'https://x';
    expect(checkTerraform(broken)).toEqual([
      'resource.aws_kms_key.audit.key_purpose: unsupported argument',
      'resource.aws_iam_role.gateway: missing required assume_role_policy',
      'resource.aws_cloudwatch_event_target.requisition.arn: reference ${aws_sfn_state_machine.missing.arn} names no resource of this document',
      'resource.aws_bedrockagentcore_gateway.charter_prod.gateway_url: is computed by the provider and cannot be set',
    ]);
  });
});

describe('the release history is verified before anything is loaded', () => {
  const copy = () => {
    const dir = mkdtempSync(join(tmpdir(), 'charter-release-tamper-'));
    cpSync(home, dir, { recursive: true });
    return { home: dir, trustedKeysFile: join(dir, 'keys', 'trusted-keys.json'), records: join(dir, 'releases', 'prod', AGENT, 'records') };
  };
  const files = (dir: string) =>
    readdirSync(dir)
      .sort()
      .map((f) => join(dir, f));

  it('refuses a record whose payload was changed', () => {
    const c = copy();
    const last = files(c.records).at(-1)!;
    const env = JSON.parse(readFileSync(last, 'utf8')) as { payload: string };
    const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { manifestDigest: string };
    payload.manifestDigest = manifests.risky!.digest;
    env.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    writeFileSync(last, JSON.stringify(env));
    expect(() => loadReleasedManifest('prod', AGENT, c)).toThrow(/release record does not verify: envelope has 0 valid signature\(s\)/);
    rmSync(c.home, { recursive: true, force: true });
  });

  it('refuses a history with a record removed, and a released manifest swapped for another', () => {
    const c = copy();
    rmSync(files(c.records)[1]!);
    expect(() => loadReleasedManifest('prod', AGENT, c)).toThrow(
      /release history of spot-bidding in prod is broken: \d+ record\(s\) are not on the chain/,
    );
    const d = copy();
    const current = loadReleasedManifest('prod', AGENT, d);
    cpSync(manifests.risky!.file, current.file);
    expect(() => loadReleasedManifest('prod', AGENT, d)).toThrow(
      /released manifest has digest sha256:\w+, the release record names sha256:/,
    );
    rmSync(c.home, { recursive: true, force: true });
    rmSync(d.home, { recursive: true, force: true });
  });
});
