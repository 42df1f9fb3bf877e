import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { checkThresholds, loadReport, pinMismatch, type EvalReport } from '../evals/index.js';
import type { Manifest } from '../policy-packs/index.js';
import { fail, notRun, pass, type CheckOutcome } from './gate-result.js';

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

/**
 * Eval thresholds met: every report is verified (signature by an `eval-report` key, schema);
 * a report named explicitly that belongs to another manifest is refused with that reason;
 * every threshold in the manifest's `agent.evalThresholds` is re-checked against the metrics of
 * the newest report for this manifest of the suite and dataset it pins (digests; a same-named
 * copy over other data does not count) measured on at least its minCases cases, and that
 * report's own verdict must pass.
 * Metrics a report could not measure are `not-run` items (`evals:<suite>/<metric>`), never a pass.
 */
export function checkEvals(
  manifest: Manifest,
  digest: string,
  opts: { explicit: string[]; discovered: string[]; trusted: TrustedKeysFile },
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

  const evidence = { reports: used.map((r) => r.evidence), thresholds, skipped };
  const met = thresholds.filter((t) => t.verdict === 'pass').length;
  const summary = `${used.length} report(s) for this manifest, ${met}/${thresholds.length} manifest threshold(s) met${unchecked.size ? `, ${unchecked.size} metric(s) not measured` : ''}`;
  if (reasons.length) return fail(summary, reasons, evidence);
  if (unchecked.size)
    return notRun(
      summary,
      [...unchecked].map(([k, why]) => `${k}: ${why}`),
      evidence,
      [...unchecked.keys()],
    );
  return pass(summary, evidence);
}

/** The waiver key of one unmeasured eval metric: `evals:<suite>/<metric>`. */
const evalCheckKey = (suite: string, metric: string) => `evals:${suite}/${metric}`;

/** Why a report has no measurement of a metric (e.g. "no judge configured"), or null when it has one. */
function unmeasured(report: EvalReport, metric: string): string | null {
  const m = report.metrics.find((x) => x.name === metric);
  return m?.status === 'not-run' ? `metric not run (${m.note ?? 'no observations'})` : null;
}
