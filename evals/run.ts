import { performance } from 'node:perf_hooks';
import { errorMessage } from '../common/index.js';
import type { Dataset, DatasetCase } from '../datasets/index.js';
import type { Judge } from './judge/grader.js';
import { loadPromptfoo } from './promptfoo.js';
import { buildScorer, type BuiltScorer } from './scorers/build.js';
import type { MetricKind } from './scorers/types.js';
import { getField, type Suite } from './suite.js';
import type { Target, TargetUsage } from './targets.js';

export type ScoreStatus = 'ok' | 'error' | 'not-run';

export interface CaseScore {
  status: ScoreStatus;
  /** 1/0 for rate metrics, the score for mean metrics; 0 on error (fail closed). */
  value: number;
  pass: boolean;
  reason: string;
}

export interface CaseResult {
  id: string;
  repeat: number;
  output: unknown;
  /** The target's error, when it produced no output. */
  error: string | null;
  scores: Record<string, CaseScore>;
  latencyMs: number;
  usage: { target: TargetUsage | null; judge: (TargetUsage & { cached: boolean }) | null };
}

export interface RunOptions {
  suite: Suite;
  suiteFile: string;
  dataset: Dataset;
  target: Target;
  /** null: no judge configured, judge scorers are "not run". */
  judge: Judge | null;
  /** Parallel cases (promptfoo maxConcurrency); matters for model-backed targets and judges. */
  concurrency?: number;
}

export interface RunResult {
  scorers: Array<{ name: string; type: BuiltScorer['type']; kind: MetricKind }>;
  cases: CaseResult[];
  durationMs: number;
}

const notRun = (reason: string): CaseScore => ({ status: 'not-run', value: 0, pass: false, reason });
const errored = (reason: string): CaseScore => ({ status: 'error', value: 0, pass: false, reason });

function judgeInput(output: unknown, field: string | undefined): string {
  const v = field ? getField(output, field) : output;
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

/**
 * Runs a suite through promptfoo's `evaluate`: Charter's target is the provider, every local
 * scorer a `javascript` assertion, every judge scorer an `llm-rubric` assertion graded by
 * Charter's judge provider. Results are keyed on testIdx (promptfoo does not keep order).
 */
export async function runSuite(opts: RunOptions): Promise<RunResult> {
  const { suite, dataset, target, judge } = opts;
  const started = performance.now();
  const scorers = suite.scorers.map((s, i) => ({ spec: s, built: buildScorer(s, opts.suiteFile, i) }));
  const tests: Array<{ testCase: DatasetCase; repeat: number }> = [];
  for (const testCase of dataset.cases) for (let r = 1; r <= suite.repeats; r++) tests.push({ testCase, repeat: r });

  const outputs = new Map<number, { output: unknown; usage: TargetUsage | null; latencyMs: number; error: string | null }>();
  const provider = {
    id: () => `charter:${target.id}`,
    callApi: async (_prompt: string, context?: { vars?: Record<string, unknown> }) => {
      const idx = Number(context?.vars?.idx);
      const t0 = performance.now();
      try {
        const { output, usage } = await target.run(tests[idx]!.testCase, tests[idx]!.repeat);
        outputs.set(idx, { output, usage: usage ?? null, latencyMs: performance.now() - t0, error: null });
        return {
          output: JSON.stringify(output) ?? 'null',
          ...(usage
            ? { tokenUsage: { prompt: usage.inputTokens, completion: usage.outputTokens, total: usage.inputTokens + usage.outputTokens } }
            : {}),
        };
      } catch (err) {
        outputs.set(idx, { output: null, usage: null, latencyMs: performance.now() - t0, error: errorMessage(err) });
        return { error: errorMessage(err) };
      }
    },
  };
  const grader = judge?.provider();

  // All local scorers of a case run inside one javascript assertion (one promptfoo assertion
  // per scorer costs ~1 ms each); their individual results are kept here by test index.
  const local = scorers.filter((s) => s.built.score);
  const localResults = new Map<number, Record<string, CaseScore>>();
  const scoreLocally = (idx: number, testCase: DatasetCase) => {
    const output = outputs.get(idx)?.output;
    const results: Record<string, CaseScore> = {};
    for (const { built } of local) {
      try {
        const r = built.score!(output, testCase);
        results[built.name] = r.applicable === false ? notRun(r.reason) : { status: 'ok', value: r.value, pass: r.pass, reason: r.reason };
      } catch (err) {
        results[built.name] = errored(`scorer failed: ${errorMessage(err)}`);
      }
    }
    localResults.set(idx, results);
    const all = Object.values(results).filter((r) => r.status !== 'not-run');
    return {
      pass: all.every((r) => r.pass),
      score: all.length ? all.reduce((sum, r) => sum + r.value, 0) / all.length : 1,
      reason: all.map((r) => r.reason).join('; '),
    };
  };

  const pfTests = tests.map(({ testCase }, idx) => ({
    vars: { idx: String(idx), caseKey: `${idx}` },
    assert: [
      ...(local.length ? [{ type: 'javascript', metric: 'ground-truth', value: () => scoreLocally(idx, testCase) }] : []),
      ...scorers.flatMap(({ spec }) => {
        if (spec.type !== 'judge' || !grader) return [];
        const rubric = 'text' in spec.rubric ? spec.rubric.text : String(getField(testCase, spec.rubric.case) ?? '');
        return [
          {
            type: 'llm-rubric',
            metric: spec.name,
            value: rubric,
            provider: grader,
            transform: () => judgeInput(outputs.get(idx)?.output, spec.output),
          },
        ];
      }),
    ],
  }));

  const promptfoo = await loadPromptfoo();
  // promptfoo's TypeScript types want its full ApiProvider and assertion unions; these objects
  // implement the runtime contract it documents (id/callApi providers, javascript and llm-rubric assertions).
  const evalRecord = await promptfoo.evaluate(
    { prompts: ['{{idx}}'], providers: [provider], tests: pfTests, writeLatestResults: false } as unknown as Parameters<
      typeof promptfoo.evaluate
    >[0],
    { maxConcurrency: opts.concurrency ?? 4, showProgressBar: false, cache: false },
  );
  const summary = await evalRecord.toEvaluateSummary();
  const byIdx = new Map<number, (typeof summary.results)[number]>();
  for (const r of summary.results) byIdx.set(r.testIdx, r);

  const cases: CaseResult[] = tests.map(({ testCase, repeat }, idx) => {
    const out = outputs.get(idx);
    const components = byIdx.get(idx)?.gradingResult?.componentResults ?? [];
    const judgeCall = judge?.calls.get(String(idx));
    const scores: Record<string, CaseScore> = {};
    for (const { spec } of scorers) {
      if (!out || out.error !== null) {
        scores[spec.name] = errored(`target error: ${out?.error ?? 'no output'}`);
        continue;
      }
      if (spec.type === 'judge' && !judge) {
        scores[spec.name] = notRun('no judge configured');
        continue;
      }
      if (spec.type === 'judge' && judgeCall?.error) {
        scores[spec.name] = errored(`judge error: ${judgeCall.error}`);
        continue;
      }
      if (spec.type !== 'judge') {
        scores[spec.name] = localResults.get(idx)?.[spec.name] ?? errored('scorer produced no result');
        continue;
      }
      const c = components.find((x) => x.assertion?.metric === spec.name);
      scores[spec.name] = c
        ? { status: 'ok', value: typeof c.score === 'number' ? c.score : c.pass ? 1 : 0, pass: c.pass, reason: c.reason ?? '' }
        : errored('judge produced no result');
    }
    return {
      id: testCase.id,
      repeat,
      output: out?.output ?? null,
      error: out?.error ?? null,
      scores,
      latencyMs: Math.round((out?.latencyMs ?? 0) * 1000) / 1000,
      usage: {
        target: out?.usage ?? null,
        judge: judgeCall?.usage ? { ...judgeCall.usage, costUsd: judgeCall.costUsd, cached: judgeCall.cached } : null,
      },
    };
  });
  return {
    scorers: scorers.map(({ built }) => ({ name: built.name, type: built.type, kind: built.kind })),
    cases,
    durationMs: performance.now() - started,
  };
}
