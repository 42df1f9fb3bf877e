import type { CheckReport, GateResult, ReleaseOutcome } from '../../../release-gates/index.js';
import { printJson, printLine, printTable } from '../../output.js';

/** A gate's status as a release manager reads it: blocking in capitals, waivers and advisories said. */
export function statusCell(g: GateResult, long = false): string {
  if (g.enforcement === 'off') return 'off';
  if (g.waiver) return long ? `${g.status} (waived by ${g.waiver.approvers.join(', ')})` : 'waived';
  if (g.blocking) return long ? `${g.status.toUpperCase()} (blocks)` : g.status.toUpperCase();
  return g.enforcement === 'advisory' && g.status !== 'pass' ? `${g.status} (advisory)` : g.status;
}

function evidenceCell(g: GateResult): string {
  return [
    g.summary,
    ...g.reasons.map((r) => `- ${r}`),
    ...(g.warnings ?? []).map((w) => `- warning: ${w}`),
    ...(g.waiver?.items.flatMap((i) => i.reasons.map((r) => `- waived ${i.check}: ${r}`)) ?? []),
  ].join('\n');
}

/** One candidate's gates: a table with their evidence, then what blocks. */
export function printReport(report: CheckReport): void {
  printLine(`${report.agent} -> ${report.environment}: manifest ${report.candidate.digest}`);
  printLine(`  current release: ${report.current ? report.current.record.record.manifestDigest : 'none'}`);
  printTable(
    ['gate', 'enforcement', 'status', 'evidence'],
    report.gates.map((g) => [g.gate, g.enforcement, statusCell(g, true), evidenceCell(g)]),
  );
  printLine(
    report.ok
      ? 'all required gates pass'
      : `blocked by: ${report.gates
          .filter((g) => g.blocking)
          .map((g) => g.gate)
          .join(', ')}`,
  );
}

/** A written release record (promote, rollback), with the gates that let it through when there are some. */
export function printOutcome(what: string, out: ReleaseOutcome, json: boolean | undefined, report?: CheckReport): void {
  const r = out.signed.record;
  if (json)
    return printJson({
      ok: true,
      record: r,
      recordDigest: out.signed.digest,
      recordFile: out.recordFile,
      manifestFile: out.manifestFile,
      auditSeq: out.auditSeq,
      ...(report ? { gates: report.gates } : {}),
    });
  if (report) printReport(report);
  printLine(`${what} ${r.agent} in ${r.environment}: ${r.manifestDigest}${r.replaces ? ` (was ${r.replaces})` : ''}`);
  printLine(`  release record ${out.signed.digest}\n  file ${out.recordFile}\n  audit seq ${out.auditSeq}`);
}
