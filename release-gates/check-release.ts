import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { charterHome, contentPath, readText, readYaml } from '../common/index.js';
import { digestOf, loadTrustedKeys, type TrustedKeysFile } from '../signing/index.js';
import { homeAuditDir, homeAuditStore, queryAudit, type DecisionRecord, type SegmentSink } from '../audit/index.js';
import { FixtureStore, FixturesFile, loadVerifiedManifest, type PackSearchPath, type VerifiedManifest } from '../policy-packs/index.js';
import { checkCedar } from './cedar-findings.js';
import { checkEvals, discoverEvalReports, releasedEvals } from './check-evals.js';
import { checkTests } from './check-tests.js';
import { auditDependencies } from './dependency-audit.js';
import { defaultEnvironmentsDir, Environment, loadGateDefinition, PROMOTION_ORDER, type GateDefinition } from './gate-definition.js';
import { fail, gateResult, notRun, pass, type CheckOutcome, type GateName, type GateResult, type Waiver } from './gate-result.js';
import { approvalFilesIn, loadReleaseApprovals, type VerifiedApproval } from './release-approval.js';
import type { SignedReleaseRecord } from './release-record.js';
import { ReleaseStore } from './release-store.js';
import { assessCanary, assessReplay, replayDecisions, type ReplayData, type ReplayResult } from './replay.js';
import { checkPackVersions } from './pack-versions.js';
import { checkSecrets } from './secret-scan.js';

export interface ReleaseOptions {
  /** Default `$CHARTER_HOME`. */
  home?: string;
  /** Default `<home>/keys/trusted-keys.json`. */
  trustedKeysFile?: string;
  /** Folder of `<env>.yaml` gate definitions (default: the shipped ones). */
  gatesDir?: string;
  /** A vitest JSON report or `charter packs test --json` output. */
  testReport?: string;
  /**
   * The packs the candidate was compiled from (your folders, then the shipped packs unless left
   * out): checked against the manifest, tested, scanned. Default: only the shipped packs are scanned.
   */
  packs?: PackSearchPath;
  /** Extra files or folders to scan for secrets (datasets and config are scanned by default). */
  scanPaths?: string[];
  /** Signed eval reports; reports under `<home>/reports/` are discovered too. */
  evalReports?: string[];
  /** Audit state folder holding the decisions to replay (default `<home>/audit`). */
  auditDir?: string;
  /** Where the audit segments are, when not in `auditDir` (e.g. S3 Object Lock). */
  auditSink?: SegmentSink;
  /** Entities and tenant limits (fixtures.yaml shape) the replayed decisions are evaluated over. */
  entitiesFile?: string;
  /** Or the live entity data of a running system (e.g. the procurement reference's negotiation state). */
  replayData?: ReplayData;
  /** Signed release approvals; those in the release store are read too. */
  approvalFiles?: string[];
}

export interface CheckReport {
  environment: Environment;
  agent: string;
  candidate: VerifiedManifest & { file: string };
  current: { record: SignedReleaseRecord; manifest: VerifiedManifest & { file: string } } | null;
  definition: GateDefinition;
  gateDefinitionDigest: string;
  gates: GateResult[];
  replay: ReplayResult | null;
  approvals: VerifiedApproval[];
  evalReports: Array<{ digest: string; suite: string; file: string }>;
  /** True when no required gate blocks. */
  ok: boolean;
}

export interface ReleaseContext {
  home: string;
  trusted: TrustedKeysFile;
  store: ReleaseStore;
}

export function releaseContext(opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'>): ReleaseContext {
  const home = opts.home ?? charterHome();
  return { home, trusted: loadTrustedKeys(opts.trustedKeysFile ?? join(home, 'keys', 'trusted-keys.json')), store: new ReleaseStore(home) };
}

/** The current release of an agent in an environment with its verified manifest, or null. */
export function currentRelease(ctx: ReleaseContext, env: Environment, agent: string): CheckReport['current'] {
  const record = ctx.store.current(env, agent, ctx.trusted);
  return record ? { record, manifest: ctx.store.loadManifest(env, agent, record.record.manifestDigest, ctx.trusted) } : null;
}

function promotionOrder(ctx: ReleaseContext, env: Environment, candidate: VerifiedManifest, current: CheckReport['current']): CheckOutcome {
  const agent = candidate.manifest.agent.name;
  if (current?.record.record.manifestDigest === candidate.digest)
    return fail(`already the current release in ${env}`, [
      `${candidate.digest} is already released to ${env} (record ${current.record.digest})`,
    ]);
  const lower = PROMOTION_ORDER[env];
  if (!lower) return pass(`${env} is the first environment`);
  const there = ctx.store.current(lower, agent, ctx.trusted);
  if (there?.record.manifestDigest === candidate.digest)
    return pass(`current ${lower} release (record ${there.digest.slice(0, 19)}…)`, { environment: lower, recordDigest: there.digest });
  return fail(`not released to ${lower}`, [
    `${env} needs a ${lower} release of manifest ${candidate.digest}; ${lower}'s current release is ${there ? there.record.manifestDigest : 'none'}`,
  ]);
}

/** Distinct release approvers this candidate needs: the environment's minimum, two whenever the base pack changed. */
function approversNeeded(
  def: GateDefinition,
  candidate: VerifiedManifest,
  current: CheckReport['current'],
): { required: number; baseReasons: string[] } {
  const baseReasons = [
    ...(candidate.manifest.baseChanged === true ? ['the manifest records a base pack change (baseChanged)'] : []),
    ...(current && current.manifest.manifest.baseDigest !== candidate.manifest.baseDigest
      ? [`the base digest differs from the current release's (${current.manifest.manifest.baseDigest.slice(0, 19)}…)`]
      : []),
  ];
  return { required: baseReasons.length ? Math.max(2, def.gates.approval.min) : def.gates.approval.min, baseReasons };
}

function approvalsGate(
  def: GateDefinition,
  needed: ReturnType<typeof approversNeeded>,
  entitled: VerifiedApproval[],
  loaded: { approvals: VerifiedApproval[]; problems: string[] },
): CheckOutcome {
  const rule = def.gates.approval;
  const notEntitled = loaded.approvals
    .filter((a) => !rule.approvers.includes(a.approver))
    .map((a) => `${a.file}: ${a.approver} does not hold the release approval right in ${def.environment}`);
  // Distinct people, not keys: two keys filed under one approver's name count once.
  const distinct = [...new Set(entitled.map((a) => a.approver))];
  const { required, baseReasons } = needed;
  const evidence = {
    approvers: distinct,
    required,
    baseChanged: baseReasons,
    entitled: rule.approvers,
    problems: [...loaded.problems, ...notEntitled],
  };
  const summary = `${distinct.length}/${required} distinct approver(s)${distinct.length ? ` (${distinct.join(', ')})` : ''}${baseReasons.length ? ', base changed: two required' : ''}`;
  if (distinct.length >= required) return pass(summary, evidence);
  return fail(
    summary,
    [
      baseReasons.length
        ? `base pack changed (${baseReasons.join('; ')}): ${required} distinct approvers required, ${distinct.length} approved`
        : `${required} distinct approver(s) required, ${distinct.length} approved`,
      ...loaded.problems,
      ...notEntitled,
    ],
    evidence,
  );
}

/**
 * Gates whose `not-run` reflects what this machine or this moment cannot provide (a reachable
 * advisory database, a judge model, recorded traffic). An entitled approver may accept such a
 * gap by name in a signed approval. Tests, secrets, Cedar findings, promotion order and the
 * approval gate itself can always be checked, so they are never waivable, and a `fail` never is.
 */
const WAIVABLE = new Set<GateName>(['dependencies', 'evals', 'replay', 'canary']);

/**
 * The waiver of a required `not-run` gate: every unchecked item named in signed approvals of
 * as many distinct entitled approvers as a release needs. Returns the reasons it falls short otherwise.
 */
function waiverFor(gate: GateName, outcome: CheckOutcome, entitled: VerifiedApproval[], required: number): Waiver | string[] {
  if (!WAIVABLE.has(gate)) return [`${gate} cannot be waived: it must run`];
  const items = outcome.unchecked!.map((check) => {
    // Sorted by approver: the record reads the same whatever order the approval files are found in.
    const by = entitled
      .flatMap((a) => a.approval.waivers.filter((w) => w.check === check).map((w) => ({ approver: a.approver, reason: w.reason })))
      .sort((x, y) => x.approver.localeCompare(y.approver) || x.reason.localeCompare(y.reason));
    return { check, by, people: new Set(by.map((b) => b.approver)).size };
  });
  const short = items.filter((i) => i.people < required);
  if (short.length)
    return short.map(
      (i) =>
        `not checked and not waived: ${i.check} (${i.people}/${required} approver waiver(s); charter release approve --waive ${i.check} --note <why>)`,
    );
  return {
    approvers: [...new Set(items.flatMap((i) => i.by.map((b) => b.approver)))],
    items: items.map((i) => ({ check: i.check, reasons: i.by.map((b) => `${b.approver}: ${b.reason}`) })),
  };
}

async function loadReplay(
  ctx: ReleaseContext,
  env: Environment,
  candidate: VerifiedManifest,
  current: CheckReport['current'],
  opts: ReleaseOptions,
  lastN: number,
  accepted: Set<string>,
): Promise<ReplayResult | string> {
  if (!opts.entitiesFile && !opts.replayData) return 'no entity data to evaluate replayed decisions over (give the gateway entities file)';
  // the home's trail, on the sink its config.yaml names, unless the caller names one
  const store = opts.auditSink
    ? { dir: opts.auditDir ?? homeAuditDir(ctx.home), sink: opts.auditSink }
    : homeAuditStore(ctx.home, opts.auditDir);
  if (store.sink.location === resolve(store.dir) && !existsSync(store.dir)) return `no audit trail at ${store.dir}`;
  const agent = candidate.manifest.agent.name;
  const all = await queryAudit({ ...store, kind: 'decision', agent });
  const records: DecisionRecord[] = all.flatMap((r) => (r.kind === 'decision' ? [r] : [])).slice(-lastN);
  const known = new Map<string, VerifiedManifest>([[candidate.digest, candidate]]);
  for (const e of Environment.options) {
    for (const h of ctx.store.history(e, agent, ctx.trusted)) {
      if (!known.has(h.record.manifestDigest))
        known.set(h.record.manifestDigest, ctx.store.loadManifest(e, agent, h.record.manifestDigest, ctx.trusted));
    }
  }
  const data = opts.replayData ?? entitiesFromFile(opts.entitiesFile!);
  return replayDecisions({ candidate, current: current?.manifest ?? null, known, records, data, accepted });
}

function entitiesFromFile(file: string): ReplayData {
  const store = FixtureStore.fromFiles([{ file, data: readYaml(file, FixturesFile) }]);
  return { resolve: (uid) => store.resolve(uid), limits: (tenant) => store.limits.get(tenant) ?? {} };
}

/**
 * Runs every gate of an environment on a candidate manifest and returns each gate's evidence.
 * Nothing is written. A required gate that fails or could not run blocks (fail closed), unless
 * what could not run is waivable and waived by name in signed approvals (see WAIVABLE).
 */
export async function checkRelease(env: string, candidateFile: string, opts: ReleaseOptions = {}): Promise<CheckReport> {
  const gatesDir = opts.gatesDir ?? defaultEnvironmentsDir();
  const def = loadGateDefinition(env, gatesDir);
  const environment = def.environment;
  const ctx = releaseContext(opts);
  const candidate = {
    ...loadVerifiedManifest(candidateFile, opts.trustedKeysFile ?? join(ctx.home, 'keys', 'trusted-keys.json')),
    file: candidateFile,
  };
  const agent = candidate.manifest.agent.name;
  const current = currentRelease(ctx, environment, agent);
  const g = def.gates;

  const bind = { environment, agent, manifestDigest: candidate.digest };
  const loaded = loadReleaseApprovals(
    [...(opts.approvalFiles ?? []), ...approvalFilesIn(ctx.store.approvalsDir(environment, agent))],
    ctx.trusted,
    bind,
  );
  const entitled = loaded.approvals.filter((a) => g.approval.approvers.includes(a.approver));
  const accepted = new Set(entitled.flatMap((a) => a.approval.acceptReplayFlips));
  const needed = approversNeeded(def, candidate, current);

  const run = async (
    name: GateName,
    enforcement: GateResult['enforcement'],
    fn: () => CheckOutcome | Promise<CheckOutcome>,
  ): Promise<GateResult> => {
    if (enforcement === 'off') return gateResult(name, enforcement, notRun('off in this environment', []));
    const ran = await fn();
    const outcome = ran.status === 'not-run' ? { ...ran, unchecked: ran.unchecked ?? [name] } : ran;
    if (enforcement !== 'required' || outcome.status !== 'not-run') return gateResult(name, enforcement, outcome);
    const waiver = waiverFor(name, outcome, entitled, needed.required);
    return Array.isArray(waiver)
      ? gateResult(name, enforcement, { ...outcome, reasons: [...outcome.reasons, ...waiver] })
      : gateResult(name, enforcement, outcome, waiver);
  };

  const packFolders = opts.packs
    ? [...opts.packs.own, ...(opts.packs.shipped ? [opts.packs.shipped] : [])]
    : [contentPath('policy-packs', 'packs')];
  const scanPaths = [
    ...packFolders,
    contentPath('datasets'),
    gatesDir,
    ...(opts.entitiesFile ? [opts.entitiesFile] : []),
    ...(opts.scanPaths ?? []),
  ];
  const replay =
    g.replay.enforcement === 'off' && g.canary.enforcement === 'off'
      ? 'off'
      : await loadReplay(ctx, environment, candidate, current, opts, g.replay.lastN, accepted);
  const evalCheck = checkEvals(candidate.manifest, candidate.digest, {
    explicit: opts.evalReports ?? [],
    discovered: discoverEvalReports(ctx.home),
    trusted: ctx.trusted,
    policy: g.evals,
    released: current ? releasedEvals(environment, ctx.store.history(environment, agent, ctx.trusted)) : null,
  });

  const gates: GateResult[] = [
    gateResult('promotion-order', 'required', promotionOrder(ctx, environment, candidate, current)),
    gateResult('pack-versions', 'required', checkPackVersions(candidate.manifest, current?.manifest.manifest ?? null)),
    await run('tests', g.tests.enforcement, () =>
      checkTests(candidate.manifest, {
        ...(opts.testReport ? { reportFile: opts.testReport } : {}),
        ...(opts.packs ? { packs: opts.packs } : {}),
        minCases: g.tests.minCases,
      }),
    ),
    await run('secrets', g.secrets.enforcement, () => checkSecrets(candidate.manifest, scanPaths, g.secrets.minEntropy)),
    await run('cedar', g.cedar.enforcement, () => checkCedar(candidate.manifest)),
    await run('dependencies', g.dependencies.enforcement, () => auditDependencies(g.dependencies.registry, g.dependencies.failOn)),
    await run('evals', g.evals.enforcement, () => evalCheck),
    await run('replay', g.replay.enforcement, () => assessReplay(replay === 'off' ? 'off' : replay)),
    await run('canary', g.canary.enforcement, () => assessCanary(replay === 'off' ? 'off' : replay, g.canary)),
    await run('approval', g.approval.enforcement, () => approvalsGate(def, needed, entitled, loaded)),
  ];
  const reports = (evalCheck.evidence.reports ?? []) as Array<{ digest: string; suite: string; file: string }>;
  return {
    environment,
    agent,
    candidate,
    current,
    definition: def,
    gateDefinitionDigest: digestOf(readText(join(gatesDir, `${environment}.yaml`))),
    gates,
    replay: typeof replay === 'string' ? null : replay,
    approvals: entitled,
    evalReports: reports.map((r) => ({ digest: r.digest, suite: r.suite, file: r.file })),
    ok: gates.every((x) => !x.blocking),
  };
}
