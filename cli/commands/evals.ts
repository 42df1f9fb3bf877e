import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError } from '../../common/index.js';
import { loadPrivateKey, loadSigner, LocalKeySigner } from '../../signing/index.js';
import { openHomeAuditLog } from '../../audit/index.js';
import {
  calibrateJudge,
  DEFAULT_CALIBRATION_DATASET,
  Judge,
  listSuites,
  loadJudgeConfig,
  ResponseCache,
  runEval,
  saveCalibration,
  suiteEvidence,
  loadReport,
  type EvalRunResult,
} from '../../evals/index.js';
import { loadTrustedKeys } from '../../signing/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';

function positiveInt(value: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InputError(`${flag} must be a positive integer, got '${value}'`, { field: flag });
  return Number(value);
}

/** The judge from --judge FILE or $CHARTER_HOME/judge.yaml, with the response cache under $CHARTER_HOME/cache. */
function judgeFrom(file: string | undefined, noCache: boolean): Judge | null {
  const loaded = loadJudgeConfig(file);
  if (!loaded) return null;
  return new Judge(loaded.config, noCache ? null : new ResponseCache(join(charterHome(), 'cache', 'judge')));
}

async function signerFrom(ref: string | undefined) {
  const path = ref ?? join(charterHome(), 'keys', 'eval-report.key.pem');
  if (!ref && !existsSync(path)) {
    throw new InputError(
      `no eval-report signing key at ${path} (create one: charter keys generate --name eval-report --purpose eval-report)`,
      { field: '--key' },
    );
  }
  return loadSigner(path);
}

/** A report's metrics with their intervals and the method that produced each. */
function printMetrics(report: EvalRunResult['report']): void {
  printTable(
    ['metric', 'estimate', '95% interval', 'method', 'n', 'errors'],
    report.metrics.map((m) => [
      m.name,
      m.estimate?.toFixed(4) ?? 'not run',
      m.low === null ? '' : `${m.low.toFixed(4)} – ${m.high!.toFixed(4)}`,
      m.method ?? m.note,
      m.n,
      m.errors,
    ]),
  );
}

function summarize(r: EvalRunResult): void {
  const { report } = r;
  printLine(
    `${report.suite.name} on ${report.target.id}: ${report.verdict.toUpperCase()} (${report.datasets[0]!.cases} cases x ${report.suite.repeats})`,
  );
  printMetrics(report);
  if (report.thresholds.length)
    printTable(
      ['threshold', 'verdict', 'source', 'why'],
      report.thresholds.map((t) => [`${t.metric} >= ${t.min} (${t.bound})`, t.verdict, t.source, t.reason]),
    );
  if (report.baseline) {
    const b = report.baseline;
    printLine(`baseline ${b.reportDigest.slice(0, 19)}…: ${b.regressions.length} regression(s), ${b.improvements} improvement(s)`);
    for (const t of b.tests) printLine(`  ${t.metric}: ${t.test} worse ${t.worse} better ${t.better} p=${t.pValue.toPrecision(3)}`);
    for (const g of b.regressions.slice(0, 20)) printLine(`  regressed ${g.id} ${g.metric}: ${g.baseline} -> ${g.current} (${g.reason})`);
    if (b.regressions.length > 20) printLine(`  … ${b.regressions.length - 20} more in the report`);
  }
  printLine(
    `report:   ${r.files.report}\nsummary:  ${r.files.markdown}\ndigest:   ${r.digest}${r.auditSeq !== null ? `\naudit:    evidence seq ${r.auditSeq}` : ''}`,
  );
}

interface RunOpts {
  baseline?: string;
  manifest?: string[];
  entities?: string;
  trustedKeys?: string;
  judge?: string;
  cache?: boolean;
  key?: string;
  concurrency: string;
  audit?: boolean;
  auditDir?: string;
  auditKey?: string;
  auditOrigin: string;
  suitesDir?: string;
  datasetsDir?: string;
  json?: boolean;
}

export function registerEvals(program: Command): void {
  const evals = program
    .command('evals')
    .description('eval suites over versioned datasets: signed reports with intervals, judge calibration');

  withJson(
    evals
      .command('list')
      .description('the shipped suites with what a manifest threshold pins: suite digest, dataset digest, cases')
      .option('--suites-dir <dir>', 'suites folder')
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action((opts: { suitesDir?: string; datasetsDir?: string; json?: boolean }) => {
      const suites = listSuites(opts.suitesDir).map((n) => suiteEvidence(n, opts.suitesDir, opts.datasetsDir));
      if (opts.json) printJson({ ok: true, suites });
      else
        printTable(
          ['suite', 'suiteDigest', 'dataset', 'datasetDigest', 'cases'],
          suites.map((s) => [s.suite, s.suiteDigest, s.dataset, s.datasetDigest, s.cases]),
        );
    }),
  );

  withJson(
    evals
      .command('verify')
      .description(
        'verify a signed eval report (signature by a trusted eval-report key, schema) and show its verdict; exit 1 when it does not verify',
      )
      .argument('<report>', 'report file (.dsse.json)')
      .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)'),
  ).action(
    action((file: string, opts: { trustedKeys?: string; json?: boolean }) => {
      const trustedKeysFile = opts.trustedKeys ?? join(charterHome(), 'keys', 'trusted-keys.json');
      if (!existsSync(trustedKeysFile))
        throw new InputError('trusted keys file not found', { file: trustedKeysFile, field: '--trusted-keys' });
      const { report, digest, envelope } = loadReport(file, loadTrustedKeys(trustedKeysFile));
      const summary = {
        digest,
        keyIds: envelope.signatures.map((s) => s.keyid),
        suite: report.suite,
        dataset: report.datasets[0] ?? null,
        target: { id: report.target.id, manifestDigest: report.target.manifestDigest },
        verdict: report.verdict,
        finishedAt: report.finishedAt,
        metrics: report.metrics,
        thresholds: report.thresholds,
      };
      if (opts.json) printJson({ ok: true, report: summary });
      else {
        printLine(`verified: ${file}\n  signed by ${summary.keyIds.join(', ')}; payload ${digest}`);
        printLine(
          `  suite ${report.suite.name} ${report.suite.digest}; dataset ${summary.dataset?.ref ?? '-'} ${summary.dataset?.digest ?? ''} (${summary.dataset?.cases ?? 0} cases)`,
        );
        printLine(`  verdict ${report.verdict.toUpperCase()} at ${report.finishedAt}`);
        printMetrics(report);
      }
    }),
  );

  withJson(
    evals
      .command('run')
      .description('run a suite (name or YAML file) and write a signed report; exit 1 when a threshold fails')
      .argument('<suite>', 'suite name or file')
      .option('--baseline <report>', 'signed report to compare with (the last released one)')
      .option(
        '--manifest <file...>',
        "signed manifest(s): the target agent's (strategy suites) or every agent's (gateway suites); digests reported, evalThresholds applied",
      )
      .option('--entities <file>', "entities and tenant limits for the gateway target (default: the base and procurement packs' fixtures)")
      .option(
        '--trusted-keys <file>',
        'trusted keys for the manifest, baseline and judge calibration (default $CHARTER_HOME/keys/trusted-keys.json)',
      )
      .option('--judge <file>', 'judge config YAML (default $CHARTER_HOME/judge.yaml when present; none: judge metrics not run)')
      .option('--no-cache', 'do not reuse cached model-target and judge answers')
      .option('--key <file|kms:id>', 'eval-report signing key (default $CHARTER_HOME/keys/eval-report.key.pem)')
      .option('--concurrency <n>', 'cases in flight at once (model-backed targets and judges)', '4')
      .option('--no-audit', 'do not record the report in the audit log')
      .option('--audit-dir <dir>', 'audit log folder (default $CHARTER_HOME/audit)')
      .option('--audit-key <file>', 'audit checkpoint key (default $CHARTER_HOME/keys/audit.key.pem; absent: no audit record)')
      .option('--audit-origin <origin>', 'audit checkpoint origin', 'charter.local/audit')
      .option('--suites-dir <dir>', 'suites folder')
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action(async (suite: string, opts: RunOpts) => {
      const home = charterHome();
      const trustedKeysFile = opts.trustedKeys ?? join(home, 'keys', 'trusted-keys.json');
      if ((opts.manifest || opts.baseline) && !existsSync(trustedKeysFile))
        throw new InputError('trusted keys file not found', { file: trustedKeysFile, field: '--trusted-keys' });
      const signer = await signerFrom(opts.key);
      const judge = judgeFrom(opts.judge, opts.cache === false);
      // The audit plane is used when its key exists (or a folder/key was named explicitly, then it must work).
      const auditKey = opts.auditKey ?? join(home, 'keys', 'audit.key.pem');
      const useAudit = opts.audit !== false && (opts.auditKey !== undefined || opts.auditDir !== undefined || existsSync(auditKey));
      const audit = useAudit
        ? await openHomeAuditLog({
            home,
            dir: opts.auditDir,
            signer: new LocalKeySigner(loadPrivateKey(auditKey)),
            origin: opts.auditOrigin,
          })
        : null;
      try {
        const result = await runEval({
          suite,
          ...(opts.suitesDir ? { suitesDir: opts.suitesDir } : {}),
          ...(opts.datasetsDir ? { datasetsRoot: opts.datasetsDir } : {}),
          judge,
          ...(opts.manifest ? { manifests: { files: opts.manifest, trustedKeysFile } } : {}),
          ...(opts.entities ? { entitiesFile: opts.entities } : {}),
          ...(opts.baseline ? { baseline: { file: opts.baseline, trustedKeysFile } } : {}),
          trustedKeysFile,
          signer,
          home,
          cache: opts.cache === false ? null : new ResponseCache(join(home, 'cache', 'targets')),
          concurrency: positiveInt(opts.concurrency, '--concurrency'),
          audit,
        });
        if (opts.json) {
          const { cases: _cases, ...rest } = result.report;
          printJson({
            ok: result.report.verdict === 'pass',
            digest: result.digest,
            files: result.files,
            auditSeq: result.auditSeq,
            report: rest,
          });
        } else summarize(result);
        return result.report.verdict === 'pass' ? 0 : 1;
      } finally {
        await audit?.close();
      }
    }),
  );

  withJson(
    evals
      .command('calibrate')
      .description(
        "measure the judge's agreement with the hand-labelled set (accuracy, Cohen's kappa); a judge under its minKappa cannot gate",
      )
      .option('--judge <file>', 'judge config YAML (default $CHARTER_HOME/judge.yaml)')
      .option('--dataset <ref>', 'labelled dataset', DEFAULT_CALIBRATION_DATASET)
      .option('--no-cache', 'do not reuse cached judge answers')
      .option('--key <file|kms:id>', 'signing key for the calibration record (default $CHARTER_HOME/keys/eval-report.key.pem)')
      .option('--concurrency <n>', 'judge calls in flight', '4')
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action(
      async (opts: {
        judge?: string;
        dataset: string;
        cache?: boolean;
        key?: string;
        concurrency: string;
        datasetsDir?: string;
        json?: boolean;
      }) => {
        const judge = judgeFrom(opts.judge, opts.cache === false);
        if (!judge)
          throw new InputError(`no judge configured: pass --judge FILE or create ${join(charterHome(), 'judge.yaml')}`, {
            field: '--judge',
          });
        const signer = await signerFrom(opts.key);
        const c = await calibrateJudge({
          judge,
          dataset: opts.dataset,
          concurrency: positiveInt(opts.concurrency, '--concurrency'),
          ...(opts.datasetsDir ? { datasetsRoot: opts.datasetsDir } : {}),
        });
        const file = await saveCalibration(c, signer);
        if (opts.json) printJson({ ok: c.passed, file, calibration: c });
        else {
          printLine(
            `judge ${String(c.judge.identity.provider)}:${String(c.judge.identity.model)} on ${c.dataset.ref}: accuracy ${c.accuracy.toFixed(3)}, kappa ${c.kappa.toFixed(3)} (min ${c.minKappa}), ${c.errors} error(s) -> ${c.passed ? 'MAY GATE' : 'MAY NOT GATE'}`,
          );
          for (const d of c.disagreements) printLine(`  ${d.id}: labelled ${d.expected}, judged ${d.judged} (${d.reason.slice(0, 100)})`);
          printLine(`calibration: ${file}`);
        }
        return c.passed ? 0 : 1;
      },
    ),
  );
}
