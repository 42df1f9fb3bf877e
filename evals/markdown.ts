import type { EvalReport } from './report-schema.js';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null, kind: string) => (v === null ? 'n/a' : kind === 'rate' ? pct(v) : v.toFixed(4));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A human summary of a report, written beside the signed envelope. */
export function reportMarkdown(r: EvalReport, digest: string): string {
  const lines: string[] = [
    `# Eval report: ${r.suite.name} — ${r.verdict.toUpperCase()}`,
    '',
    `- target: \`${r.target.id}\`${r.target.manifests.length ? ` (manifests: ${r.target.manifests.map((m) => `${m.agent} \`${m.digest}\``).join(', ')})` : ' (no manifest given)'}`,
    `- dataset: ${r.datasets.map((d) => `\`${d.ref}\` (${d.cases} cases, \`${d.digest}\`)`).join(', ')}`,
    `- repeats: ${r.suite.repeats}; duration ${(r.durationMs / 1000).toFixed(2)} s; report digest \`${digest}\``,
    `- judge: ${r.judge ? `\`${String(r.judge.identity.provider)}:${String(r.judge.identity.model)}\` — ${r.judge.gating ? 'calibrated, may gate' : `may not gate (${r.judge.note ?? ''})`}` : 'none configured (judge metrics not run)'}`,
    `- usage (new tokens only): target ${r.usage.targetTokens} tokens (${r.usage.targetCacheHits} cache hits), judge ${r.usage.judgeTokens} tokens over ${r.usage.judgeCalls} calls (${r.usage.judgeCacheHits} cache hits)${r.usage.costUsd !== null ? `, USD ${r.usage.costUsd.toFixed(4)}` : ''}`,
    `- engine: charter ${r.engine.charter}, promptfoo ${r.engine.promptfoo}`,
    '',
    '## Metrics (95% intervals)',
    '',
    'Intervals take cases as the unit: `wilson` is the Wilson score interval of one pass/fail outcome per case; `wilson-case-means` the same interval over per-case means in [0, 1] (a pass rate over repeats, or a score), conservative for scores and never a point at 0 or 1.',
    '',
    '| metric | estimate | interval | method | n | errors | note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...r.metrics.map(
      (m) =>
        `| ${m.name} | ${num(m.estimate, m.kind)} | ${m.low === null ? 'n/a' : `${num(m.low, m.kind)} – ${num(m.high, m.kind)}`} | ${m.method ?? 'not run'} | ${m.n} | ${m.errors} | ${cell(m.note ?? '')} |`,
    ),
    '',
    '## Thresholds',
    '',
  ];
  if (r.thresholds.length === 0) lines.push('No thresholds: this report cannot gate anything.');
  else {
    lines.push('| metric | bound | min | observed | verdict | source | why |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const t of r.thresholds)
      lines.push(
        `| ${t.metric} | ${t.bound} | ${t.min} | ${t.observed === null ? 'n/a' : t.observed.toFixed(4)} | **${t.verdict}** | ${t.source} | ${cell(t.reason)} |`,
      );
  }
  if (r.baseline) {
    const b = r.baseline;
    lines.push(
      '',
      '## Against the baseline',
      '',
      `Baseline \`${b.reportDigest}\`${b.datasetChanged ? ' (dataset changed since the baseline)' : ''}; ${b.regressions.length} regression(s), ${b.improvements} improvement(s), ${b.unpairedCases} unpaired case(s).`,
      '',
    );
    lines.push(
      '| metric | test (p) | pairs | mean diff (95% CI, method) | worse | better | p |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of b.tests)
      lines.push(
        `| ${t.metric} | ${t.test} (${t.pMethod}) | ${t.pairs} | ${t.meanDiff.toFixed(4)} (${t.low.toFixed(4)} – ${t.high.toFixed(4)}, ${t.intervalMethod}) | ${t.worse} | ${t.better} | ${t.pValue.toPrecision(3)} |`,
      );
    if (b.regressions.length) {
      lines.push('', '### Regressed cases', '', '| case | metric | baseline | now | why |', '| --- | --- | --- | --- | --- |');
      for (const g of b.regressions.slice(0, 200))
        lines.push(`| ${g.id} | ${g.metric} | ${g.baseline.toFixed(3)} | ${g.current.toFixed(3)} | ${cell(g.reason)} |`);
      if (b.regressions.length > 200) lines.push('', `… and ${b.regressions.length - 200} more in the signed report.`);
    }
  }
  const failing = r.cases.filter((c) => Object.values(c.scores).some((s) => s.status !== 'not-run' && !s.pass));
  lines.push('', `## Failing cases (${failing.length})`, '');
  if (failing.length) {
    lines.push('| case | repeat | scorer | why |', '| --- | --- | --- | --- |');
    for (const c of failing.slice(0, 50)) {
      for (const [name, s] of Object.entries(c.scores))
        if (s.status !== 'not-run' && !s.pass) lines.push(`| ${c.id} | ${c.repeat} | ${name} | ${cell(s.reason)} |`);
    }
    if (failing.length > 50) lines.push('', `… and ${failing.length - 50} more in the signed report.`);
  }
  return lines.join('\n') + '\n';
}
