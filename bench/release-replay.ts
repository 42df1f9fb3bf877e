// Benchmark: the release gates' hot paths. Decision replay (the candidate and the current release,
// which recorded the traffic, each deciding every replayed request) over synthetic recorded traffic of the
// gateway fixture agent, and the secret scan over the shipped packs and datasets. Prints one JSON object.
import { generateKeyPairSync } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { contentPath, readYaml } from '../common/index.js';
import { LocalKeySigner } from '../signing/index.js';
import { exampleDecision, type DecisionRecord } from '../audit/index.js';
import { compileManifest, FixtureStore, FixturesFile, signManifest, Workspace, type VerifiedManifest } from '../policy-packs/index.js';
import { checkSecrets, replayDecisions } from '../release-gates/index.js';

const RECORDS = Number(process.argv[2] ?? 10_000);
const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);

async function manifest(): Promise<VerifiedManifest> {
  const compiled = compileManifest(new Workspace(contentPath('gateway', 'fixtures', 'packs')), 'spot-bidding');
  return { manifest: compiled.manifest, digest: compiled.digest, envelope: await signManifest(compiled, signer), signedBy: ['bench'] };
}

const current = await manifest();
// The candidate differs only in its digest key, so it gets its own engine and decides every request itself.
const candidate = { ...current, digest: current.digest.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
const entitiesFile = contentPath('gateway', 'fixtures', 'entities.yaml');
const store = FixtureStore.fromFiles([{ file: entitiesFile, data: readYaml(entitiesFile, FixturesFile) }]);
const calls = [
  { tool: 'list_suppliers', resource: (t: string) => `Charter::Tenant::"${t}"`, tier: 'read' as const },
  { tool: 'submit_bid', resource: (t: string) => `Procurement::Negotiation::"${t}-n1"`, tier: 'write-low' as const },
  { tool: 'award_contract', resource: (t: string) => `Procurement::Negotiation::"${t}-n1"`, tier: 'write-high' as const },
  { tool: 'terminate_supplier', resource: (t: string) => `Procurement::Supplier::"${t}-s1"`, tier: 'critical' as const },
];
const records: DecisionRecord[] = Array.from({ length: RECORDS }, (_, i) => {
  const c = calls[i % calls.length]!;
  const tenant = i % 2 ? 'acme' : 'globex';
  return exampleDecision(i, {
    agentId: 'spot-bidding',
    tenantId: tenant,
    tool: c.tool,
    action: `Procurement::Action::"${c.tool}"`,
    resource: c.resource(tenant),
    tier: c.tier,
    manifestDigest: current.digest,
    decision: c.tier === 'read' ? 'allow' : 'deny',
    approvals: [],
  });
});

const t0 = performance.now();
const result = replayDecisions({
  candidate,
  current,
  known: new Map([[current.digest, current]]),
  records,
  data: { resolve: (uid) => store.resolve(uid), limits: (t) => store.limits.get(t) ?? {} },
  accepted: new Set(),
});
const replaySeconds = (performance.now() - t0) / 1000;

const s0 = performance.now();
const scan = checkSecrets(current.manifest, [contentPath('policy-packs', 'packs'), contentPath('datasets')], 4.5);
const scanSeconds = (performance.now() - s0) / 1000;

process.stdout.write(
  JSON.stringify({
    bench: 'release-replay',
    records: RECORDS,
    replayed: result.replayed,
    reproduced: result.reproduced,
    flips: result.flips.denyToAllow + result.flips.allowToDeny,
    replaySeconds: Number(replaySeconds.toFixed(3)),
    // Two decisions a record: the candidate's, and the current release's (which recorded the traffic).
    decisionsPerSecond: Math.round((2 * result.replayed) / replaySeconds),
    secretScanFiles: (scan.evidence.scanned as { files: number }).files,
    secretScanSeconds: Number(scanSeconds.toFixed(3)),
    secretFindings: (scan.evidence.findings as unknown[]).length,
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    aims: { replaySecondsFor10k: 15, secretScanSeconds: 2 },
  }) + '\n',
);
