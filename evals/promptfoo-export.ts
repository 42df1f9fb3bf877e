import { createHash } from 'node:crypto';
import { arch, platform } from 'node:os';
import type { CompletedPrompt, EvaluateResult, GradingResult, OutputFile } from 'promptfoo';
import type { DatasetCase } from '../datasets/index.js';
import type { EvalReport } from './report-schema.js';

type CaseRun = EvalReport['cases'][number];
type Tokens = NonNullable<EvaluateResult['tokenUsage']>;
type VarValue = EvaluateResult['vars'][string];

/** promptfoo's ResultFailureReason: NONE, ASSERT (an assertion failed), ERROR (no valid result). */
const NONE = 0;
const ASSERT = 1;
const ERROR = 2;

/** Scorers that are LLM-as-judge rubrics (they call the judge or carry its own score), shown as llm-rubric assertions. */
function judgeScorers(report: EvalReport): Set<string> {
  const names = new Set<string>();
  for (const c of report.cases) {
    Object.keys(c.usage.judge).forEach((n) => names.add(n));
    for (const [n, s] of Object.entries(c.scores)) if (s.judgeScore !== undefined) names.add(n);
  }
  return names;
}

const NO_DETAILS = { reasoning: 0, acceptedPrediction: 0, rejectedPrediction: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };

/** promptfoo's normalized token counts (every field present). */
function tokens(prompt: number, completion: number, cached: number, numRequests: number) {
  return { prompt, completion, total: prompt + completion, cached, numRequests, completionDetails: NO_DETAILS };
}

/** The target's tokens, with the judge calls' as promptfoo's `assertions` usage. */
function tokensOf(c: CaseRun): Tokens {
  const t = c.usage.target;
  const judged = Object.values(c.usage.judge);
  const sum = (f: (u: (typeof judged)[number]) => number) => judged.reduce((s, u) => s + f(u), 0);
  return {
    ...tokens(t?.inputTokens ?? 0, t?.outputTokens ?? 0, t?.cached ? 1 : 0, 1),
    assertions: tokens(
      sum((u) => u.inputTokens),
      sum((u) => u.outputTokens),
      judged.filter((u) => u.cached).length,
      judged.length,
    ),
  };
}

function costOf(c: CaseRun): number {
  return [c.usage.target?.costUsd ?? null, ...Object.values(c.usage.judge).map((u) => u.costUsd)].reduce<number>((s, v) => s + (v ?? 0), 0);
}

/**
 * One promptfoo result per case run. Charter's rules carry over: a scorer that did not run is
 * left out (not a pass), a target or judge error makes the run an ERROR, otherwise it passes
 * only when every scorer that ran passed.
 */
function resultOf(
  report: EvalReport,
  c: CaseRun,
  testIdx: number,
  prompt: { id: string; raw: string; label: string; provider: string },
  judges: Set<string>,
  data: ReadonlyMap<string, DatasetCase> | null,
): EvaluateResult {
  const ran = Object.entries(c.scores).filter(([, s]) => s.status !== 'not-run');
  const errors = [
    ...(c.error !== null ? [`target error: ${c.error}`] : []),
    ...ran.filter(([, s]) => s.status === 'error').map(([, s]) => s.reason),
  ];
  const pass = errors.length === 0 && ran.length > 0 && ran.every(([, s]) => s.pass);
  const failureReason = errors.length || ran.length === 0 ? ERROR : pass ? NONE : ASSERT;
  const score = ran.length ? ran.reduce((sum, [, s]) => sum + s.value, 0) / ran.length : 0;
  const namedScores = Object.fromEntries(ran.map(([n, s]) => [n, s.value]));
  const components: GradingResult[] = ran.map(([name, s]) => ({
    pass: s.pass,
    score: s.value,
    reason: s.reason,
    assertion: { type: judges.has(name) ? 'llm-rubric' : 'javascript', metric: name },
    ...(s.judgeScore !== undefined ? { metadata: { judgeScore: s.judgeScore } } : {}),
  }));
  const row = data?.get(c.id);
  const vars: EvaluateResult['vars'] = { case: c.id, ...(row ? { input: row.input as VarValue, expected: row.expected as VarValue } : {}) };
  const description = report.suite.repeats > 1 ? `${c.id} (repeat ${c.repeat})` : c.id;
  const tokenUsage = tokensOf(c);
  const cost = costOf(c);
  const reason =
    failureReason === ERROR
      ? errors.join('; ') || 'no scorer ran'
      : components.map((r) => `${r.assertion!.metric}: ${r.reason}`).join('; ');
  return {
    id: createHash('sha256').update(`${report.id}/${c.id}/${c.repeat}`).digest('hex').slice(0, 32),
    description,
    promptIdx: 0,
    testIdx,
    testCase: {
      description,
      vars,
      assert: components.map((r) => r.assertion!),
      metadata: { charterCaseId: c.id, repeat: c.repeat },
    },
    promptId: prompt.id,
    provider: { id: prompt.provider, label: report.target.id },
    prompt: { raw: prompt.raw, label: prompt.label },
    vars,
    response: c.error !== null ? { error: c.error } : { output: JSON.stringify(c.output, null, 2) ?? 'null', tokenUsage, cost },
    ...(failureReason === ERROR ? { error: reason } : {}),
    failureReason,
    success: pass,
    score,
    latencyMs: c.latencyMs,
    gradingResult: { pass, score, reason, namedScores, componentResults: components },
    namedScores,
    cost,
    tokenUsage,
    metadata: { charterCaseId: c.id, repeat: c.repeat },
  };
}

/** Token counts summed over results (target calls, and judge calls as `assertions`). */
function totalTokens(results: EvaluateResult[]): Tokens {
  const sum = (f: (u: Tokens) => number | undefined) => results.reduce((s, r) => s + (r.tokenUsage ? (f(r.tokenUsage) ?? 0) : 0), 0);
  return {
    ...tokens(
      sum((u) => u.prompt),
      sum((u) => u.completion),
      sum((u) => u.cached),
      results.length,
    ),
    assertions: tokens(
      sum((u) => u.assertions?.prompt),
      sum((u) => u.assertions?.completion),
      sum((u) => u.assertions?.cached),
      sum((u) => u.assertions?.numRequests),
    ),
  };
}

/** The prompt's aggregate metrics, as promptfoo sums them over its results. */
function promptMetrics(results: EvaluateResult[]): NonNullable<CompletedPrompt['metrics']> {
  const named: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const r of results)
    for (const [n, v] of Object.entries(r.namedScores)) {
      named[n] = (named[n] ?? 0) + v;
      counts[n] = (counts[n] ?? 0) + 1;
    }
  const components = results.flatMap((r) => r.gradingResult?.componentResults ?? []);
  const sum = (f: (r: EvaluateResult) => number) => results.reduce((s, r) => s + f(r), 0);
  return {
    score: sum((r) => r.score),
    testPassCount: results.filter((r) => r.failureReason === NONE).length,
    testFailCount: results.filter((r) => r.failureReason === ASSERT).length,
    testErrorCount: results.filter((r) => r.failureReason === ERROR).length,
    assertPassCount: components.filter((g) => g.pass).length,
    assertFailCount: components.filter((g) => !g.pass).length,
    totalLatencyMs: sum((r) => r.latencyMs),
    tokenUsage: totalTokens(results),
    namedScores: named,
    namedScoresCount: counts,
    cost: sum((r) => r.cost ?? 0),
  };
}

/**
 * A signed eval report as promptfoo's results file (`promptfoo eval -o out.json`: an OutputFile
 * with results version 3), so `promptfoo import` and `promptfoo view`, and tools that read that
 * format, show a Charter run: one prompt (the suite on its target), one result per case run with
 * one assertion per scorer. Charter's own evidence (report digest, suite and dataset digests,
 * metrics with their intervals and methods, thresholds, verdict) goes in `config.metadata`; the
 * export is a view of the report and carries no signature of its own. With the dataset's cases
 * (checked by the caller to be the report's dataset), each result's vars carry the case's input
 * and expected answer; without them, the case id only.
 */
export function toPromptfooResults(
  report: EvalReport,
  digest: string,
  dataset: readonly DatasetCase[] | null = null,
  exportedAt = new Date(),
): OutputFile {
  const label = `${report.suite.name} on ${report.target.id}`;
  const provider = `charter:${report.target.id}`;
  const prompt = {
    id: createHash('sha256').update(`${report.suite.digest}/${report.target.id}`).digest('hex'),
    raw: '{{case}}',
    label,
    provider,
  };
  const judges = judgeScorers(report);
  const data = dataset ? new Map(dataset.map((c) => [c.id, c])) : null;
  const results = report.cases.map((c, i) => resultOf(report, c, i, prompt, judges, data));
  const metrics = promptMetrics(results);
  return {
    evalId: `eval-charter-${report.id}`,
    results: {
      version: 3,
      timestamp: report.startedAt,
      prompts: [{ ...prompt, metrics }],
      results,
      stats: {
        successes: metrics.testPassCount,
        failures: metrics.testFailCount,
        errors: metrics.testErrorCount,
        tokenUsage: totalTokens(results),
        durationMs: report.durationMs,
      },
    },
    config: {
      description: `${label}: ${report.suite.description}`,
      prompts: [prompt.raw],
      providers: [provider],
      metadata: {
        charter: {
          reportDigest: digest,
          reportId: report.id,
          verdict: report.verdict,
          suite: report.suite,
          datasets: report.datasets,
          target: { id: report.target.id, manifestDigest: report.target.manifestDigest, manifests: report.target.manifests },
          metrics: report.metrics,
          thresholds: report.thresholds,
          engine: report.engine,
        },
      },
    },
    shareableUrl: null,
    metadata: {
      promptfooVersion: report.engine.promptfoo,
      nodeVersion: process.version,
      platform: platform(),
      arch: arch(),
      exportedAt: exportedAt.toISOString(),
      evaluationCreatedAt: report.startedAt,
    },
    vars: dataset ? ['case', 'input', 'expected'] : ['case'],
  };
}
