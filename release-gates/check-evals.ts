import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { checkThresholds, loadReport, type EvalReport } from '../evals/index.js';
import type { Manifest } from '../policy-packs/index.js';
import { fail, pass, type CheckOutcome } from './gate-result.js';

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
    .flatMap((d) => readdirSync(join(root, d.name)).filter((f) => f.endsWith('.dsse.json')).map((f) => join(root, d.name, f)))
    .sort();
}

/**
 * Eval thresholds met: every report is verified (signature by an `eval-report` key, schema);
 * a report named explicitly that belongs to another manifest is refused with that reason;
 * every threshold in the manifest's `agent.evalThresholds` is re-checked against the metrics of
 * the newest report of its suite for this manifest, and that report's own verdict must pass.
 */
export function checkEvals(manifest: Manifest, digest: string, opts: { explicit: string[]; discovered: string[]; trusted: TrustedKeysFile }): CheckOutcome {
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
    const evaluated = [...new Set([report.target.manifestDigest, ...report.target.manifests.filter((m) => m.agent === manifest.agent.name).map((m) => m.digest)].filter((d) => d !== null))];
    if (!evaluated.includes(digest)) {
      if (explicit) reasons.push(`${file}: eval report belongs to manifest ${evaluated.join(', ') || '(none)'}, not the candidate ${digest}`);
      return;
    }
    mine.push({ report, evidence: { file, digest: loaded.digest, suite: report.suite.name, verdict: report.verdict, finishedAt: report.finishedAt } });
  };
  opts.explicit.forEach((f) => load(f, true));
  opts.discovered.filter((f) => !opts.explicit.includes(f)).forEach((f) => load(f, false));

  const newest = new Map<string, (typeof mine)[number]>();
  for (const r of mine) {
    const cur = newest.get(r.report.suite.name);
    if (!cur || r.report.finishedAt > cur.report.finishedAt) newest.set(r.report.suite.name, r);
  }
  const thresholds = manifest.agent.evalThresholds.map((t) => {
    const r = newest.get(t.suite);
    if (!r) return { ...t, verdict: 'fail' as const, observed: null, reason: `no signed eval report of suite ${t.suite} for this manifest` };
    const [v] = checkThresholds([{ metric: t.metric, min: t.min, bound: t.bound, source: 'manifest' }], r.report.metrics);
    return { ...t, verdict: v!.verdict, observed: v!.observed, reason: v!.reason, report: r.evidence.digest };
  });
  for (const t of thresholds) if (t.verdict === 'fail') reasons.push(`${t.suite}/${t.metric} >= ${t.min} (${t.bound}): ${t.reason}`);
  const used = [...newest.values()];
  for (const r of used) if (r.report.verdict !== 'pass') reasons.push(`${r.evidence.file}: report verdict is fail (${r.report.thresholds.filter((v) => v.verdict === 'fail').map((v) => `${v.metric}: ${v.reason}`).join('; ')})`);
  if (used.length === 0) reasons.push(`no signed eval report for manifest ${digest}`);

  const evidence = { reports: used.map((r) => r.evidence), thresholds, skipped };
  const summary = `${used.length} report(s) for this manifest, ${thresholds.filter((t) => t.verdict === 'pass').length}/${thresholds.length} manifest threshold(s) met`;
  return reasons.length ? fail(summary, reasons, evidence) : pass(summary, evidence);
}
