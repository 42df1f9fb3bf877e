import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/index.js';
import { loadTrustedKeys } from '../signing/index.js';
import { loadReport } from '../evals/index.js';
import { NotFound } from './guard.js';
import type { ReportSummary } from './pages-types.js';

/** Every signed report of the home (`<home>/reports/<suite>/*.dsse.json`), verified (signature, key purpose eval-report, schema); one that does not verify is listed with why. */
function reportFiles(home: string): Array<{ file: string; suite: string }> {
  const dir = join(home, 'reports');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((suite) =>
      readdirSync(join(dir, suite))
        .filter((f) => f.endsWith('.dsse.json'))
        .sort()
        .map((f) => ({ file: join(dir, suite, f), suite })),
    );
}

export function evalReports(home: string): { reports: ReportSummary[]; unverified: Array<{ file: string; error: string }> } {
  const trusted = loadTrustedKeys(join(home, 'keys', 'trusted-keys.json'));
  const reports: ReportSummary[] = [];
  const unverified: Array<{ file: string; error: string }> = [];
  for (const { file, suite } of reportFiles(home)) {
    try {
      const { report, digest } = loadReport(file, trusted);
      reports.push({
        id: report.id,
        suite,
        digest,
        file,
        startedAt: report.startedAt,
        verdict: report.verdict,
        manifests: report.target.manifests,
        metrics: report.metrics,
        usage: report.usage,
        baseline: report.baseline ? { regressions: report.baseline.regressions.length, improvements: report.baseline.improvements } : null,
      });
    } catch (err) {
      unverified.push({ file, error: errorMessage(err) });
    }
  }
  return { reports: reports.sort((a, b) => b.startedAt.localeCompare(a.startedAt)), unverified };
}

/**
 * One report: metrics with intervals, thresholds, the baseline comparison with its per-case
 * regressions, the judge and its calibration (kappa with its interval, the disagreements), usage
 * and cost, and the cases that did not pass.
 */
export function evalReport(home: string, id: string) {
  const trusted = loadTrustedKeys(join(home, 'keys', 'trusted-keys.json'));
  for (const { file } of reportFiles(home)) {
    const { report, digest } = loadReport(file, trusted);
    if (report.id !== id) continue;
    const failing = report.cases.filter((c) => Object.values(c.scores).some((s) => !s.pass));
    return {
      digest,
      file,
      ...report,
      cases: undefined,
      caseCount: report.cases.length,
      failing: failing.slice(0, 200).map((c) => ({ id: c.id, repeat: c.repeat, error: c.error, scores: c.scores })),
    };
  }
  throw new NotFound(`eval report ${id}`);
}
