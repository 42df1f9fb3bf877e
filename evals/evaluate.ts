import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { charterHome, InputError, readText, writeFileAtomic } from '../common/index.js';
import { loadDataset } from '../datasets/index.js';
import { canonicalJson, digestOf, loadTrustedKeys, signEnvelope, type DsseEnvelope, type Signer } from '../signing/index.js';
import { loadVerifiedManifest } from '../policy-packs/index.js';
import { evidenceRecord, type EvidenceRecord } from '../audit/index.js';
import { compareWithBaseline } from './baseline.js';
import type { ResponseCache } from './cache.js';
import { judgeStanding } from './calibrate.js';
import type { Judge } from './judge/grader.js';
import { reportMarkdown } from './markdown.js';
import { computeMetrics } from './metrics.js';
import { EVAL_REPORT_PAYLOAD_TYPE, EvalReport } from './report-schema.js';
import { loadReport } from './report-verify.js';
import { runSuite } from './run.js';
import { checkCasePaths, loadSuite } from './suite.js';
import { targetFor, type Target } from './targets.js';
import { checkThresholds, type Threshold } from './thresholds.js';
import { engineVersions } from './versions.js';
import { gatewayTarget, scratchApprovalsDir } from './gateway-target.js';
import { modelAgentTarget } from './model-agent-target.js';
import { toolUseModel } from '../agents/index.js';

/** Where evidence goes: the audit log (`AuditLog.append`). */
export interface EvidenceSink {
  append(record: EvidenceRecord): Promise<{ seq: number }>;
}

export interface EvalRunOptions {
  /** A shipped suite's name or a suite YAML file. */
  suite: string;
  suitesDir?: string;
  datasetsRoot?: string;
  /** Replaces the suite's target (the gateway decision path, or a target under test). */
  target?: Target;
  judge?: Judge | null;
  /**
   * Signed manifests (verified): their digests go in the report and their evalThresholds for
   * this suite apply. A strategy target takes its agent's one manifest; the gateway target the
   * manifests of every agent whose calls it decides.
   */
  manifests?: { files: string[]; trustedKeysFile: string };
  /** Entities and tenant limits for the gateway target (default: the procurement pack's fixtures). */
  entitiesFile?: string;
  /** The last released report to compare with. */
  baseline?: { file: string; trustedKeysFile: string };
  /** Keys trusted to verify judge calibrations; default $CHARTER_HOME/keys/trusted-keys.json when present. */
  trustedKeysFile?: string;
  signer: Signer;
  /** Response cache for model targets (null: none). */
  cache?: ResponseCache | null;
  home?: string;
  concurrency?: number;
  audit?: EvidenceSink | null;
}

export interface EvalRunResult {
  report: EvalReport;
  envelope: DsseEnvelope;
  /** `sha256:` of the payload bytes. */
  digest: string;
  files: { report: string; markdown: string };
  markdown: string;
  auditSeq: number | null;
}

/** What a manifest threshold pins for a suite: its file digest, its dataset's digest and case count. */
export function suiteEvidence(
  nameOrFile: string,
  suitesDir?: string,
  datasetsRoot?: string,
): { suite: string; suiteDigest: string; dataset: string; datasetDigest: string; cases: number } {
  const { suite, file } = loadSuite(nameOrFile, suitesDir);
  const dataset = loadDataset(suite.dataset, datasetsRoot);
  return {
    suite: suite.name,
    suiteDigest: digestOf(readText(file)),
    dataset: suite.dataset,
    datasetDigest: dataset.digest,
    cases: dataset.cases.length,
  };
}

function sumTokens(u: { inputTokens: number; outputTokens: number } | null): number {
  return u ? u.inputTokens + u.outputTokens : 0;
}

/**
 * `charter evals run`: suite -> dataset (digest-checked) -> target -> promptfoo -> metrics
 * with intervals -> thresholds (suite and manifest) -> baseline comparison -> a signed report
 * under $CHARTER_HOME/reports/<suite>/ with a Markdown summary -> evidence in the audit log.
 */
export async function runEval(opts: EvalRunOptions): Promise<EvalRunResult> {
  const home = opts.home ?? charterHome();
  const startedAt = new Date();
  const { suite, file: suiteFile } = loadSuite(opts.suite, opts.suitesDir);
  const dataset = loadDataset(suite.dataset, opts.datasetsRoot);
  checkCasePaths(suiteFile, dataset);
  const manifests = (opts.manifests?.files ?? []).map((f) => loadVerifiedManifest(f, opts.manifests!.trustedKeysFile));
  if (suite.target.kind === 'strategy') {
    if (manifests.length > 1)
      throw new InputError(`a strategy target takes one manifest, got ${manifests.length}`, { field: '--manifest' });
    const named = manifests[0]?.manifest.agent.name;
    if (named && named !== suite.target.agent)
      throw new InputError(`manifest is for agent '${named}', the suite targets '${suite.target.agent}'`, { field: '--manifest' });
  }
  const gateway = {
    manifestFiles: opts.manifests?.files ?? [],
    trustedKeysFile: opts.manifests?.trustedKeysFile ?? '',
    approvalsDir: scratchApprovalsDir(home),
    ...(opts.entitiesFile ? { entitiesFile: opts.entitiesFile } : {}),
  };
  const target =
    opts.target ??
    (suite.target.kind === 'gateway'
      ? gatewayTarget(gateway)
      : suite.target.kind === 'model-agent'
        ? modelAgentTarget({ ...gateway, model: toolUseModel(suite.target.model) })
        : targetFor(suite.target, opts.cache ?? null));
  const judge = opts.judge ?? null;
  const trustedFile = opts.trustedKeysFile ?? join(home, 'keys', 'trusted-keys.json');
  const trusted = existsSync(trustedFile) ? loadTrustedKeys(trustedFile) : null;
  const standing = judge && suite.judgeCalibration ? judgeStanding(judge, suite.judgeCalibration, trusted, home) : null;
  const baseline = opts.baseline
    ? { ...loadReport(opts.baseline.file, loadTrustedKeys(opts.baseline.trustedKeysFile)), file: opts.baseline.file }
    : null;
  // Cases of another suite share ids only by accident: comparing with them proves nothing.
  if (baseline && baseline.report.suite.name !== suite.name)
    throw new InputError(`baseline is a report of suite '${baseline.report.suite.name}', not '${suite.name}'`, {
      file: baseline.file,
      field: '--baseline',
    });

  const run = await runSuite({ suite, suiteFile, dataset, target, judge, concurrency: opts.concurrency ?? 4 });
  const metrics = computeMetrics(run, standing ?? { gating: false, note: 'no judge configured' });
  const thresholds: Threshold[] = [
    ...suite.thresholds.map((t) => ({ ...t, source: 'suite' as const })),
    ...manifests.flatMap((m) =>
      m.manifest.agent.evalThresholds
        .filter((t) => t.suite === suite.name)
        .map((t) => ({
          metric: t.metric,
          min: t.min,
          bound: t.bound,
          source: `manifest:${m.manifest.agent.name}`,
          pin: { suiteDigest: t.suiteDigest, datasetDigest: t.datasetDigest, minCases: t.minCases },
        })),
    ),
  ];
  const suiteDigest = digestOf(readText(suiteFile));
  const verdicts = checkThresholds(thresholds, metrics, { suiteDigest, datasetDigest: dataset.digest });
  const judgeCalls = run.cases.flatMap((c) => Object.values(c.usage.judge));
  const costs = [...run.cases.map((c) => c.usage.target?.costUsd ?? null), ...judgeCalls.map((u) => u.costUsd)].filter(
    (c): c is number => c !== null,
  );
  const report: EvalReport = {
    apiVersion: 'charter.dev/v1',
    kind: 'EvalReport',
    id: uuidv4(),
    suite: { name: suite.name, description: suite.description, digest: suiteDigest, repeats: suite.repeats },
    target: {
      id: target.id,
      spec: opts.target ? { kind: 'custom' } : suite.target,
      manifestDigest: manifests.length === 1 ? manifests[0]!.digest : target.manifestDigest,
      agent: manifests.length === 1 ? manifests[0]!.manifest.agent.name : null,
      manifests: manifests.map((m) => ({ agent: m.manifest.agent.name, digest: m.digest })).sort((a, b) => a.agent.localeCompare(b.agent)),
    },
    datasets: [{ ref: suite.dataset, digest: dataset.digest, cases: dataset.cases.length }],
    judge: judge
      ? {
          identity: judge.identity,
          digest: judge.digest,
          calibration: standing?.calibration ?? null,
          gating: standing?.gating ?? false,
          note: standing?.note ?? null,
        }
      : null,
    engine: engineVersions(),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(run.durationMs),
    usage: {
      targetTokens: run.cases.reduce((s, c) => s + sumTokens(c.usage.target), 0),
      judgeTokens: judgeCalls.reduce((s, u) => s + sumTokens(u), 0),
      costUsd: costs.length ? costs.reduce((a, b) => a + b, 0) : null,
      judgeCalls: judgeCalls.length,
      judgeCacheHits: judgeCalls.filter((u) => u.cached).length,
      targetCacheHits: run.cases.filter((c) => c.usage.target?.cached).length,
    },
    metrics,
    thresholds: verdicts,
    verdict: verdicts.every((v) => v.verdict === 'pass') ? 'pass' : 'fail',
    baseline: baseline ? compareWithBaseline({ cases: run.cases, metrics, datasetDigest: dataset.digest }, baseline) : null,
    cases: run.cases,
  };
  EvalReport.parse(report);
  const payload = Buffer.from(canonicalJson(report));
  const digest = digestOf(payload);
  const envelope = await signEnvelope(EVAL_REPORT_PAYLOAD_TYPE, payload, [opts.signer]);
  const markdown = reportMarkdown(report, digest);
  const stem = join(home, 'reports', suite.name, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${digest.slice(7, 19)}`);
  const files = { report: `${stem}.dsse.json`, markdown: `${stem}.md` };
  writeFileAtomic(files.report, JSON.stringify(envelope, null, 2) + '\n');
  writeFileAtomic(files.markdown, markdown);
  let auditSeq: number | null = null;
  if (opts.audit) {
    const failed = verdicts.filter((v) => v.verdict === 'fail').map((v) => v.metric);
    const { seq } = await opts.audit.append(
      evidenceRecord({
        evidenceType: 'eval-report',
        digest,
        subject: report.target.manifestDigest ?? `suite:${suite.name}`,
        summary: `eval ${suite.name} on ${target.id}: ${report.verdict}${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`,
        document: envelope,
        runId: report.id,
      }),
    );
    auditSeq = seq;
  }
  return { report, envelope, digest, files, markdown, auditSeq };
}
