import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { checkThresholds, compareWithBaseline, loadReport, pinMismatch, type CaseResult, type EvalReport } from '../evals/index.js';
import type { Manifest } from '../policy-packs/index.js';
import type { Environment, GateDefinition } from './gate-definition.js';
import { fail, notRun, pass, type CheckOutcome } from './gate-result.js';
import type { SignedReleaseRecord } from './release-record.js';

export interface EvalEvidence {
  file: string;
  digest: string;
  suite: string;
  verdict: 'pass' | 'fail';
  finishedAt: string;
}

/** Signed eval reports under `$CHARTER_HOME/reports/<suite>/`, the place `charter evals run` writes them. */
export function discoverEvalReports(home: string): string[] {
  const root = join(home, 'reports');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(root, d.name))
        .filter((f) => f.endsWith('.dsse.json'))
        .map((f) => join(root, d.name, f)),
    )
    .sort();
}

/** What the environment's current release went out with: its promote record and the eval reports that record names. */
export interface ReleasedEvals {
  environment: Environment;
  manifestDigest: string;
  recordDigest: string;
  reports: Array<{ digest: string; suite: string; file: string }>;
}

/**
 * The eval evidence of the manifest an environment serves: the newest promote record of that
 * manifest in the history (a rollback record names no reports; the promote that first released
 * the manifest does). Null when nothing is released there.
 */
export function releasedEvals(environment: Environment, history: readonly SignedReleaseRecord[]): ReleasedEvals | null {
  const serving = history.at(-1)?.record.manifestDigest;
  const promoted = history.findLast((h) => h.record.action === 'promote' && h.record.manifestDigest === serving);
  if (!serving || !promoted) return null;
  return { environment, manifestDigest: serving, recordDigest: promoted.digest, reports: promoted.record.evalReports };
}

type Loaded = { report: EvalReport; digest: string; file: string };

/** A released report by its digest: at the file its record names, else among the home's reports; verified either way. */
function findReleased(entry: ReleasedEvals['reports'][number], discovered: string[], trusted: TrustedKeysFile): Loaded | null {
  for (const file of [entry.file, ...discovered.filter((f) => f !== entry.file)]) {
    if (!existsSync(file)) continue;
    try {
      const loaded = loadReport(file, trusted);
      if (loaded.digest === entry.digest) return { report: loaded.report, digest: loaded.digest, file };
    } catch {
      // not this one (another key, a damaged file): keep looking; not finding it is reported below
    }
  }
  return null;
}

const CASES_SHOWN = 20;

/** One line per significant regression: the suite and metric, the test, and the cases that got worse. */
function regressionLine(
  suite: string,
  against: ReleasedEvals,
  baseline: Loaded,
  c: ReturnType<typeof compareWithBaseline>,
  metric: string,
): string {
  const t = c.tests.find((x) => x.metric === metric)!;
  const cases = c.regressions.filter((g) => g.metric === metric);
  const shown = cases.slice(0, CASES_SHOWN).map((g) => `${g.id} ${g.baseline} -> ${g.current}`);
  const more = cases.length > CASES_SHOWN ? `, … ${cases.length - CASES_SHOWN} more (--json lists all)` : '';
  const test = t.test === 'mcnemar-exact' ? 'McNemar exact' : `Wilcoxon signed-rank (${t.pMethod})`;
  return (
    `${suite}/${metric}: significant regression against ${against.environment}'s current release (report ${baseline.digest.slice(0, 19)}…${c.datasetChanged ? ', other dataset' : ''}): ` +
    `${test} p=${t.pValue.toPrecision(3)}, ${t.worse} worse / ${t.better} better of ${t.pairs} paired cases, ` +
    `mean change ${t.meanDiff.toFixed(3)} [${t.low.toFixed(3)}, ${t.high.toFixed(3)}]; cases: ${shown.join(', ')}${more}`
  );
}

/**
 * Each report the gate uses, compared case by case with the report of the same suite the
 * environment's current release went out with (evals/baseline.ts: McNemar's exact test for
 * pass/fail metrics, Wilcoxon signed-rank for scores). A metric is a significant regression
 * when it got worse on average and its two-sided p-value is below alpha. A released report that
 * cannot be found is an unchecked item (`evals:<suite>/regressions`), never a silent pass.
 */
function regressionsAgainst(
  used: Loaded[],
  released: ReleasedEvals | null,
  policy: GateDefinition['gates']['evals'],
  discovered: string[],
  trusted: TrustedKeysFile,
) {
  const lines: string[] = [];
  const unchecked = new Map<string, string>();
  const suites: Array<Record<string, unknown>> = [];
  for (const r of used) {
    const suite = r.report.suite.name;
    const entries = released?.reports.filter((e) => e.suite === suite) ?? [];
    if (!released || entries.length === 0) {
      suites.push({ suite, baseline: null, note: released ? `no ${suite} report in the current release` : 'nothing released here yet' });
      continue;
    }
    const found = entries.map((e) => findReleased(e, discovered, trusted));
    const baseline = found.filter((f): f is Loaded => f !== null).sort((a, b) => b.report.finishedAt.localeCompare(a.report.finishedAt))[0];
    if (!baseline) {
      const why = `the ${suite} report ${entries[0]!.digest} that ${released.environment}'s current release went out with is not found (its record names ${entries[0]!.file}): regressions not checked`;
      unchecked.set(evalCheckKey(suite, 'regressions'), why);
      suites.push({ suite, baseline: null, note: why });
      continue;
    }
    const c = compareWithBaseline(
      { cases: r.report.cases as CaseResult[], metrics: r.report.metrics, datasetDigest: r.report.datasets[0]?.digest ?? '' },
      baseline,
    );
    const significant = c.tests.filter((t) => t.meanDiff < 0 && t.pValue < policy.alpha).map((t) => t.metric);
    for (const metric of significant) lines.push(regressionLine(suite, released, baseline, c, metric));
    suites.push({
      suite,
      report: r.digest,
      baseline: { report: baseline.digest, file: baseline.file },
      datasetChanged: c.datasetChanged,
      unpairedCases: c.unpairedCases,
      tests: c.tests.map((t) => ({ ...t, significant: significant.includes(t.metric) })),
      regressedCases: c.regressions.filter((g) => significant.includes(g.metric)),
    });
  }
  const evidence = {
    against: released && {
      environment: released.environment,
      manifestDigest: released.manifestDigest,
      recordDigest: released.recordDigest,
    },
    mode: policy.regressions,
    alpha: policy.alpha,
    suites,
  };
  return { lines, unchecked, evidence };
}

/**
 * Eval thresholds met: every report is verified (signature by an `eval-report` key, schema);
 * a report named explicitly that belongs to another manifest is refused with that reason;
 * every threshold in the manifest's `agent.evalThresholds` is re-checked against the metrics of
 * the newest report for this manifest of the suite and dataset it pins (digests; a same-named
 * copy over other data does not count) measured on at least its minCases cases, and that
 * report's own verdict must pass.
 * Metrics a report could not measure are `not-run` items (`evals:<suite>/<metric>`), never a pass.
 * Significant regressions against the environment's current release (`regressionsAgainst`) fail
 * the gate where the environment says `regressions: block` and are warnings where it says `warn`.
 */
export function checkEvals(
  manifest: Manifest,
  digest: string,
  opts: {
    explicit: string[];
    discovered: string[];
    trusted: TrustedKeysFile;
    policy: GateDefinition['gates']['evals'];
    released: ReleasedEvals | null;
  },
): CheckOutcome {
  const reasons: string[] = [];
  const skipped: string[] = [];
  const mine: Array<{ report: EvalReport; evidence: EvalEvidence }> = [];
  const load = (file: string, explicit: boolean) => {
    let loaded: ReturnType<typeof loadReport>;
    try {
      loaded = loadReport(file, opts.trusted);
    } catch (err) {
      // A report named explicitly must verify; one found by discovery that does not is noted and skipped.
      (explicit ? reasons : skipped).push(`${file}: ${errorMessage(err)}`);
      return;
    }
    const { report } = loaded;
    // A run over several agents' manifests (the gateway target) lists each; the one for this agent counts.
    const evaluated = [
      ...new Set(
        [
          report.target.manifestDigest,
          ...report.target.manifests.filter((m) => m.agent === manifest.agent.name).map((m) => m.digest),
        ].filter((d) => d !== null),
      ),
    ];
    if (!evaluated.includes(digest)) {
      if (explicit)
        reasons.push(`${file}: eval report belongs to manifest ${evaluated.join(', ') || '(none)'}, not the candidate ${digest}`);
      return;
    }
    mine.push({
      report,
      evidence: { file, digest: loaded.digest, suite: report.suite.name, verdict: report.verdict, finishedAt: report.finishedAt },
    });
  };
  opts.explicit.forEach((f) => load(f, true));
  opts.discovered.filter((f) => !opts.explicit.includes(f)).forEach((f) => load(f, false));

  // Per threshold, the newest report of its suite that is the pinned evidence (suite and dataset digests).
  const chosen = new Set<(typeof mine)[number]>();
  const thresholds = manifest.agent.evalThresholds.map((t) => {
    const pin = { suiteDigest: t.suiteDigest, datasetDigest: t.datasetDigest, minCases: t.minCases };
    const named = mine.filter((r) => r.report.suite.name === t.suite);
    const pinned = named.filter(
      (r) =>
        !pinMismatch(pin, { suiteDigest: r.report.suite.digest, datasetDigest: r.report.datasets[0]?.digest ?? null, metric: undefined }),
    );
    const r = pinned.reduce<(typeof mine)[number] | undefined>(
      (a, b) => (!a || b.report.finishedAt > a.report.finishedAt ? b : a),
      undefined,
    );
    if (!r) {
      const other = named[0]?.report;
      const why = other
        ? `: ${pinMismatch(pin, { suiteDigest: other.suite.digest, datasetDigest: other.datasets[0]?.digest ?? null, metric: undefined })}`
        : '';
      return {
        ...t,
        verdict: 'fail' as const,
        observed: null,
        reason: `no signed eval report of the pinned suite ${t.suite} for this manifest${why}`,
      };
    }
    chosen.add(r);
    const missing = unmeasured(r.report, t.metric);
    if (missing) return { ...t, verdict: 'not-run' as const, observed: null, reason: missing, report: r.evidence.digest };
    const [v] = checkThresholds([{ metric: t.metric, min: t.min, bound: t.bound, source: 'manifest', pin }], r.report.metrics, {
      suiteDigest: r.report.suite.digest,
      datasetDigest: r.report.datasets[0]?.digest ?? null,
    });
    return { ...t, verdict: v!.verdict, observed: v!.observed, reason: v!.reason, report: r.evidence.digest };
  });
  for (const t of thresholds) if (t.verdict === 'fail') reasons.push(`${t.suite}/${t.metric} >= ${t.min} (${t.bound}): ${t.reason}`);
  const used = [...chosen];
  const unchecked = new Map(
    thresholds.flatMap((t) => (t.verdict === 'not-run' ? [[evalCheckKey(t.suite, t.metric), t.reason] as const] : [])),
  );
  for (const r of used) {
    const failed = r.report.thresholds.filter((v) => v.verdict === 'fail');
    // A report that failed only on metrics it could not measure (a judge with no model) is not a
    // measured failure: those metrics are unchecked, which blocks unless an approver waives them.
    const measured = failed.filter((v) => !unmeasured(r.report, v.metric));
    for (const v of failed) {
      const missing = unmeasured(r.report, v.metric);
      if (missing) unchecked.set(evalCheckKey(r.report.suite.name, v.metric), missing);
    }
    if (measured.length)
      reasons.push(`${r.evidence.file}: report verdict is fail (${measured.map((v) => `${v.metric}: ${v.reason}`).join('; ')})`);
  }
  if (used.length === 0) reasons.push(`no signed eval report for manifest ${digest}`);

  const regressions = regressionsAgainst(
    used.map((r) => ({ report: r.report, digest: r.evidence.digest, file: r.evidence.file })),
    opts.released,
    opts.policy,
    opts.discovered,
    opts.trusted,
  );
  const blocking = opts.policy.regressions === 'block';
  if (blocking) {
    reasons.push(...regressions.lines);
    for (const [k, why] of regressions.unchecked) unchecked.set(k, why);
  }
  const warnings = blocking ? [] : [...regressions.lines, ...regressions.unchecked.values()];

  const evidence = { reports: used.map((r) => r.evidence), thresholds, skipped, regressions: regressions.evidence };
  const met = thresholds.filter((t) => t.verdict === 'pass').length;
  const against = opts.released ? `${opts.released.environment}'s current release` : 'the current release';
  const summary =
    `${used.length} report(s) for this manifest, ${met}/${thresholds.length} manifest threshold(s) met` +
    (regressions.lines.length
      ? `, ${regressions.lines.length} significant regression(s) against ${against}${blocking ? '' : ' (warn only)'}`
      : '') +
    (unchecked.size ? `, ${unchecked.size} item(s) not checked` : '');
  const outcome = reasons.length
    ? fail(summary, reasons, evidence)
    : unchecked.size
      ? notRun(
          summary,
          [...unchecked].map(([k, why]) => `${k}: ${why}`),
          evidence,
          [...unchecked.keys()],
        )
      : pass(summary, evidence);
  return warnings.length ? { ...outcome, warnings } : outcome;
}

/** The waiver key of one unmeasured eval metric: `evals:<suite>/<metric>`. */
const evalCheckKey = (suite: string, metric: string) => `evals:${suite}/${metric}`;

/** Why a report has no measurement of a metric (e.g. "no judge configured"), or null when it has one. */
function unmeasured(report: EvalReport, metric: string): string | null {
  const m = report.metrics.find((x) => x.name === metric);
  return m?.status === 'not-run' ? `metric not run (${m.note ?? 'no observations'})` : null;
}
