import type { Command } from 'commander';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { printMetrics, verifiedReport } from './shared.js';

export function registerVerify(evals: Command): void {
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
      const { report, digest, envelope } = verifiedReport(file, opts.trustedKeys);
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
}
