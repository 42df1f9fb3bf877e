import { performance } from 'node:perf_hooks';
import { errorMessage } from '../common/index.js';
import type { Dataset, DatasetCase } from '../datasets/index.js';
import { judgeCallKey, verdictValue, type Judge } from './judge/grader.js';
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
  /** Judge scorers: the judge's own score, recorded but not counted (see verdictValue). */
  judgeScore?: number;
}

/** Usage of one judge call (tokens 0 on a cache hit: nothing new was spent). */
export type JudgeUsage = TargetUsage & { cached: boolean };

export interface CaseResult {
  id: string;
  repeat: number;
  output: unknown;
  /** The target's error, when it produced no output. */
  error: string | null;
  scores: Record<string, CaseScore>;
  latencyMs: number;
  /** Target usage, and one entry per judge scorer that called the judge for this case run. */
  usage: { target: TargetUsage | null; judge: Record<string, JudgeUsage> };
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

/** A judge scorer's result on one case run, from the judge's record of that call. */
function judgeScore(call: ReturnType<Judge['calls']['get']>): CaseScore {
  if (!call) return errored('judge produced no result');
  if (call.error !== undefined || !call.verdict) return errored(`judge error: ${call.error ?? 'no verdict'}`);
  const v = call.verdict;
  return { status: 'ok', value: verdictValue(v), pass: v.pass, reason: v.reason, judgeScore: v.score };
}

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
        if (spec.type !== 'judge' || !judge) return [];
        const rubric = 'text' in spec.rubric ? spec.rubric.text : String(getField(testCase, spec.rubric.case) ?? '');
        return [
          {
            type: 'llm-rubric',
            metric: spec.name,
            value: rubric,
            provider: judge.provider(spec.name),
            transform: () => judgeInput(outputs.get(idx)?.output, spec.output),
          },
        ];
      }),
    ],
  }));

  const promptfoo = await loadPromptfoo();
  // promptfoo's TypeScript types want its full ApiProvider and assertion unions; these objects
  // implement the runtime contract it documents (id/callApi providers, javascript and llm-rubric assertions).
  // Every score is read back from Charter's own records (outputs, localResults, judge.calls).
  await promptfoo.evaluate(
    { prompts: ['{{idx}}'], providers: [provider], tests: pfTests, writeLatestResults: false } as unknown as Parameters<
      typeof promptfoo.evaluate
    >[0],
    { maxConcurrency: opts.concurrency ?? 4, showProgressBar: false, cache: false },
  );

  const cases: CaseResult[] = tests.map(({ testCase, repeat }, idx) => {
    const out = outputs.get(idx);
    const scores: Record<string, CaseScore> = {};
    const judgeUsage: Record<string, JudgeUsage> = {};
    for (const { spec } of scorers) {
      if (!out || out.error !== null) {
        scores[spec.name] = errored(`target error: ${out?.error ?? 'no output'}`);
        continue;
      }
      if (spec.type === 'judge' && !judge) {
        scores[spec.name] = notRun('no judge configured');
        continue;
      }
      if (spec.type !== 'judge') {
        scores[spec.name] = localResults.get(idx)?.[spec.name] ?? errored('scorer produced no result');
        continue;
      }
      const call = judge?.calls.get(judgeCallKey(String(idx), spec.name));
      if (call) {
        const u = call.usage ?? { inputTokens: 0, outputTokens: 0 };
        judgeUsage[spec.name] = { inputTokens: u.inputTokens, outputTokens: u.outputTokens, costUsd: call.costUsd, cached: call.cached };
      }
      scores[spec.name] = judgeScore(call);
    }
    return {
      id: testCase.id,
      repeat,
      output: out?.output ?? null,
      error: out?.error ?? null,
      scores,
      latencyMs: Math.round((out?.latencyMs ?? 0) * 1000) / 1000,
      usage: { target: out?.usage ?? null, judge: judgeUsage },
    };
  });
  return {
    scorers: scorers.map(({ built }) => ({ name: built.name, type: built.type, kind: built.kind })),
    cases,
    durationMs: performance.now() - started,
  };
}
