import type { Command } from 'commander';
import { checkRelease, type CheckReport } from '../../../release-gates/index.js';
import { writeCiReports } from '../../ci-report.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action } from '../../program.js';
import { RELEASE_CHECK_TOOL, releaseCiCases } from './ci.js';
import { printReport, statusCell } from './report.js';
import { candidatesOf, gateOptions, releaseOptions, selectOptions, type GateOpts } from './shared.js';

/** Several candidates: one row per agent, one column per gate, then what blocks and why. */
function printMatrix(reports: CheckReport[]): void {
  const gates = reports[0]!.gates.map((g) => g.gate);
  printTable(
    ['agent', ...gates],
    reports.map((r) => [r.agent, ...r.gates.map((g) => statusCell(g))]),
  );
  for (const r of reports)
    for (const g of r.gates) {
      if (g.blocking) printLine(`${r.agent}: ${g.gate} ${g.status}: ${g.reasons.join('; ')}`);
      for (const w of g.warnings ?? []) printLine(`${r.agent}: ${g.gate} warning: ${w}`);
    }
}

function reportJson(report: CheckReport) {
  return {
    ok: report.ok,
    environment: report.environment,
    agent: report.agent,
    manifestDigest: report.candidate.digest,
    current: report.current?.record.record.manifestDigest ?? null,
    gateDefinitionDigest: report.gateDefinitionDigest,
    gates: report.gates,
  };
}

export function registerCheck(release: Command): void {
  selectOptions(
    gateOptions(
      release
        .command('check')
        .description(
          'run every gate of an environment on candidate manifests; a table of gates with their evidence; exit 1 when a required gate blocks',
        ),
    ),
    'check',
  )
    .option('--junit <file>', 'also write a JUnit XML report (one testcase per gate and candidate) for CI systems')
    .option('--sarif <file>', "also write SARIF 2.1.0 (one result per blocking gate, at its entry in the environment's gate file)")
    .action(
      action(async (o: GateOpts & { junit?: string; sarif?: string }) => {
        const opts = await releaseOptions(o);
        const reports: CheckReport[] = [];
        for (const c of candidatesOf(o, opts)) reports.push(await checkRelease(o.env, c.file, opts));
        const ok = reports.every((r) => r.ok);
        writeCiReports(o, `charter release check --env ${o.env}`, RELEASE_CHECK_TOOL, releaseCiCases(reports, o.gates));
        if (o.json)
          printJson(
            reports.length === 1 && !o.all ? reportJson(reports[0]!) : { ok, environment: o.env, reports: reports.map(reportJson) },
          );
        else if (reports.length === 1) printReport(reports[0]!);
        else printMatrix(reports);
        return ok ? 0 : 1;
      }),
    );
}
