import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError } from '../../../common/index.js';
import { loadPrivateKey, LocalKeySigner } from '../../../signing/index.js';
import { openHomeAuditLog } from '../../../audit/index.js';
import { ResponseCache, runEval, type EvalRunResult } from '../../../evals/index.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';
import { judgeFrom, positiveInt, printMetrics, signerFrom } from './shared.js';

/** What a finished run says on screen: verdict, metrics, thresholds, the baseline comparison, the files. */
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

export function registerRun(evals: Command): void {
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
}
