import type { CaseResult } from './run.js';
import type { Metric } from './metrics.js';
import { perCaseValues } from './metrics.js';
import type { BaselineComparison, EvalReport } from './report-schema.js';
import { mcnemarExact, pairedBootstrap, wilcoxonSignedRank } from './stats.js';
import { BOOTSTRAP_SEED } from './metrics.js';

/**
 * Compares a run with a baseline report case by case (matched on case id): every case whose
 * score dropped is listed as a regression, and each metric gets a paired test of the
 * difference: McNemar's exact test for pass/fail metrics, the Wilcoxon signed-rank test for
 * scores and per-case means, and a paired bootstrap interval of the mean difference for both.
 */
export function compareWithBaseline(
  current: { cases: readonly CaseResult[]; metrics: readonly Metric[]; datasetDigest: string },
  baseline: { report: EvalReport; digest: string; file: string },
): BaselineComparison {
  const regressions: BaselineComparison['regressions'] = [];
  const tests: BaselineComparison['tests'] = [];
  let improvements = 0;
  let unpaired = 0;
  for (const m of current.metrics) {
    if (m.status === 'not-run') continue;
    const now = perCaseValues(current.cases, m.name);
    const before = perCaseValues(baseline.report.cases as CaseResult[], m.name);
    if (before.size === 0) continue;
    const ids = [...now.keys()].filter((id) => before.has(id)).sort();
    unpaired = Math.max(unpaired, now.size - ids.length);
    const cur = ids.map((id) => now.get(id)!);
    const base = ids.map((id) => before.get(id)!);
    ids.forEach((id, i) => {
      if (cur[i]! < base[i]!) {
        const reason = current.cases.find((c) => c.id === id)?.scores[m.name]?.reason ?? '';
        regressions.push({ id, metric: m.name, baseline: base[i]!, current: cur[i]!, reason });
      } else if (cur[i]! > base[i]!) improvements++;
    });
    if (ids.length === 0) continue;
    const diff = pairedBootstrap(cur, base, { seed: BOOTSTRAP_SEED });
    const binary = cur.every((v) => v === 0 || v === 1) && base.every((v) => v === 0 || v === 1);
    if (binary) {
      const worse = ids.filter((_, i) => base[i] === 1 && cur[i] === 0).length;
      const better = ids.filter((_, i) => base[i] === 0 && cur[i] === 1).length;
      tests.push({
        metric: m.name,
        test: 'mcnemar-exact',
        pairs: ids.length,
        meanDiff: diff.estimate,
        low: diff.low,
        high: diff.high,
        worse,
        better,
        pValue: mcnemarExact(worse, better).pValue,
        pMethod: 'exact',
        intervalMethod: 'paired-bootstrap',
      });
    } else {
      const w = wilcoxonSignedRank(cur.map((v, i) => v - base[i]!));
      tests.push({
        metric: m.name,
        test: 'wilcoxon-signed-rank',
        pairs: ids.length,
        meanDiff: diff.estimate,
        low: diff.low,
        high: diff.high,
        worse: w.negative,
        better: w.positive,
        pValue: w.pValue,
        pMethod: w.method,
        intervalMethod: 'paired-bootstrap',
      });
    }
  }
  regressions.sort((a, b) => a.metric.localeCompare(b.metric) || a.id.localeCompare(b.id));
  return {
    reportDigest: baseline.digest,
    reportFile: baseline.file,
    datasetChanged: baseline.report.datasets[0]?.digest !== current.datasetDigest,
    unpairedCases: unpaired,
    regressions,
    improvements,
    tests,
  };
}
