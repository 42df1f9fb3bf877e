// Benchmark: the release gates' hot paths. Decision replay (the candidate and the current release,
// which recorded the traffic, each deciding every replayed request) over synthetic recorded traffic of the
// gateway fixture agent, in rounds beside the raw cedar-wasm calls the same requests become (both
// engines, statefulIsAuthorized) with the ratio; and the secret scan over the shipped packs and
// datasets in rounds. argv[2] or REPLAY_RECORDS sets the record count (2,000 by default; the aim, 10,000 in
// 15 s, is printed per record so it holds at any count).
import { generateKeyPairSync } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { contentPath, readYaml } from '../common/index.js';
import { LocalKeySigner } from '../signing/index.js';
import { exampleDecision, type DecisionRecord } from '../audit/index.js';
import {
  compileManifest,
  FixtureStore,
  FixturesFile,
  parseUid,
  PolicyEngine,
  signManifest,
  Workspace,
  type VerifiedManifest,
} from '../policy-packs/index.js';
import { checkSecrets, replayDecisions } from '../release-gates/index.js';
import { emit, figure, inRounds, ROUNDS, summarize, timeEach } from './harness.js';

const RECORDS = Number(process.argv[2] ?? process.env.REPLAY_RECORDS ?? 2_000);
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

const data = {
  resolve: (uid: Parameters<typeof store.resolve>[0]) => store.resolve(uid),
  limits: (t: string) => store.limits.get(t) ?? {},
};
let result!: ReturnType<typeof replayDecisions>;
const replayOnce = () => {
  result = replayDecisions({ candidate, current, known: new Map([[current.digest, current]]), records, data, accepted: new Set() });
};

// The floor: the stateful Cedar call each replayed request becomes, on both engines, as replay
// asks it (PolicyEngine.fromManifest without options: the whole request, schema-validated),
// built in replay's order (candidate, then current, record by record) so Cedar sees the same
// sequence. Replay and floor alternate within every round (which goes first alternates too), so
// both meet the same load; a floor measured in rounds of its own after replay's met another.
const engines = [candidate, current].map((m) => PolicyEngine.fromManifest(m.manifest, m.digest));
const rawRequests = records.flatMap((r) =>
  engines.flatMap((engine) => {
    const built = engine.cedarRequest(
      {
        agent: r.agentId,
        tenant: r.tenantId,
        tool: r.tool,
        args: {},
        approvers: [],
        limits: data.limits(r.tenantId),
        resource: parseUid(r.resource)!,
      },
      data,
    );
    return 'request' in built ? [built.request] : [];
  }),
);
const floorOnce = () => {
  for (const q of rawRequests) if (cedar.statefulIsAuthorized(q).type !== 'success') throw new Error('raw Cedar call failed');
};
const perRecord = async (run: () => void) => (await timeEach(run, 1, 0))[0]! / RECORDS;
replayOnce();
floorOnce();
const replayRounds: number[] = [];
const floorRounds: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    replayRounds.push(await perRecord(replayOnce));
    floorRounds.push(await perRecord(floorOnce));
  } else {
    floorRounds.push(await perRecord(floorOnce));
    replayRounds.push(await perRecord(replayOnce));
  }
}
const replayMsPerRecord = summarize(replayRounds);
const rawMsPerRecord = summarize(floorRounds);

let scan!: ReturnType<typeof checkSecrets>;
const scanSeconds = await inRounds(
  async () =>
    (
      await timeEach(
        () => (scan = checkSecrets(current.manifest, [contentPath('policy-packs', 'packs'), contentPath('datasets')], 4.5)),
        1,
        0,
      )
    )[0]! / 1000,
);

emit('release-replay', {
  records: RECORDS,
  replayed: result.replayed,
  reproduced: result.reproduced,
  flips: result.flips.denyToAllow + result.flips.allowToDeny,
  // Two decisions a record: the candidate's, and the current release's (which recorded the traffic).
  replayMsPerRecord: figure(replayMsPerRecord, {
    unit: 'ms',
    lowerIsBetter: true,
    // 10,000 records in 15 s.
    aim: 1.5,
    limit: {
      what: `raw cedar-wasm statefulIsAuthorized of the same ${rawRequests.length} requests, per record (rounds alternated with replay's)`,
      sampled: rawMsPerRecord,
    },
  }),
  // Per round (replay and floor side by side): the spread says how far load moved the ratio.
  roundRatios: replayRounds.map((ms, i) => Math.round((ms / floorRounds[i]!) * 1000) / 1000),
  decisionsPerSecond: Math.round((2 * 1000) / replayMsPerRecord.median),
  secretScanFiles: (scan.evidence.scanned as { files: number }).files,
  secretScanSeconds: figure(scanSeconds, { unit: 's', lowerIsBetter: true, aim: 2 }),
  secretFindings: (scan.evidence.findings as unknown[]).length,
});
