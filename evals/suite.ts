import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { contentPath, readYaml } from '../common/index.js';
import { parseDatasetRef, type Dataset } from '../datasets/index.js';
import { ModelEndpoint } from './judge/config.js';

/**
 * A dotted path into a JSON value: `quadrant`, `award.bidId`, `purchaseOrders[0].totalCents`,
 * or `excluded[*].bidId` (every element of a list).
 */
const FieldPath = z
  .string()
  .regex(/^[A-Za-z_$][\w$-]*(\[(\d+|\*)\]|\.[A-Za-z_$][\w$-]*)*$/, 'expected a field path like a.b[0].c or a[*].b');

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -');

const ScorerBase = { name: Name, description: z.string().optional() };

/** Ground truth, code-based and judge scorers. Each scorer is one metric of the same name. */
export const ScorerSpec = z.discriminatedUnion('type', [
  z.strictObject({ ...ScorerBase, type: z.literal('exact'), output: FieldPath, expected: FieldPath }),
  z.strictObject({
    ...ScorerBase,
    type: z.literal('numeric'),
    output: FieldPath,
    expected: FieldPath,
    tolerance: z.number().nonnegative(),
  }),
  z.strictObject({
    ...ScorerBase,
    type: z.literal('set'),
    output: FieldPath,
    expected: FieldPath,
    measure: z.enum(['jaccard', 'f1', 'equal']).default('jaccard'),
  }),
  z.strictObject({
    ...ScorerBase,
    type: z.literal('rank'),
    output: FieldPath,
    expected: FieldPath,
    measure: z.enum(['ndcg', 'top1']),
    /** Cut-off for nDCG@k; default the full expected ranking. */
    k: z.number().int().positive().optional(),
  }),
  z.strictObject({
    ...ScorerBase,
    type: z.literal('json-schema'),
    output: FieldPath.optional(),
    schema: z.record(z.string(), z.unknown()),
  }),
  z.strictObject({ ...ScorerBase, type: z.literal('code'), check: z.string().min(1) }),
  z.strictObject({
    ...ScorerBase,
    type: z.literal('judge'),
    /** What the judge sees: a field of the output (JSON-encoded unless a string); default the whole output. */
    output: FieldPath.optional(),
    /** The rubric: inline text, or a field of the dataset case, e.g. `expected.rubric`. */
    rubric: z.union([z.strictObject({ text: z.string().min(1) }), z.strictObject({ case: FieldPath })]),
  }),
]);
export type ScorerSpec = z.infer<typeof ScorerSpec>;

export const TargetSpec = z.discriminatedUnion('kind', [
  /** An agent's deterministic strategy (agents/index.ts `strategies`). */
  z.strictObject({ kind: z.literal('strategy'), agent: Name, config: z.record(z.string(), z.unknown()).optional() }),
  /** The gateway's in-process decision path over the agents' compiled manifests. */
  z.strictObject({ kind: z.literal('gateway') }),
  /**
   * The model-driven agent path: the case's agent's tool-use loop, on the model this id names
   * (agents' model ids: `openai:<model>` or a Bedrock model id), proposes the case's call and
   * the gateway decides it. Needs the agents' manifests like the gateway target.
   */
  z.strictObject({ kind: z.literal('model-agent'), model: z.string().min(1) }),
  /** The case's own input field, unchanged: used to grade fixed outputs (judge calibration). */
  z.strictObject({ kind: z.literal('dataset-field'), field: FieldPath }),
  /**
   * A model answering a prompt: `{{input}}` in the prompt is replaced by the case input as JSON;
   * the answer must be JSON (the output). Nondeterministic: use `repeats`.
   */
  z.strictObject({
    kind: z.literal('model'),
    endpoint: ModelEndpoint,
    system: z.string().min(1),
    prompt: z.string().includes('{{input}}', { message: 'prompt must contain {{input}}' }),
  }),
]);
export type TargetSpec = z.infer<typeof TargetSpec>;

export const ThresholdSpec = z.strictObject({
  metric: Name,
  min: z.number(),
  /** `lower` (default): the lower bound of the 95% interval must reach min; `point`: the estimate. */
  bound: z.enum(['lower', 'point']).default('lower'),
});
export type ThresholdSpec = z.infer<typeof ThresholdSpec>;

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>');
const DatasetRefText = z.string().refine((s) => /^[a-z0-9][a-z0-9-]*@v\d+$/.test(s), 'expected name@vN');

/**
 * The human-labelled set a judge must be calibrated on before its metrics may gate this suite,
 * pinned by the sha256 of its data.jsonl, with the fewest rows a calibration may have.
 */
export const JudgeCalibrationPin = z.strictObject({ dataset: DatasetRefText, digest: Digest, minCases: z.number().int().positive() });
export type JudgeCalibrationPin = z.infer<typeof JudgeCalibrationPin>;

export const Suite = z
  .strictObject({
    name: Name,
    description: z.string().min(1),
    target: TargetSpec,
    dataset: DatasetRefText,
    /** Runs per case; > 1 for nondeterministic targets. */
    repeats: z.number().int().positive().default(1),
    scorers: z.array(ScorerSpec).min(1),
    thresholds: z.array(ThresholdSpec).default([]),
    /** Required when a scorer is a judge. */
    judgeCalibration: JudgeCalibrationPin.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.scorers.some((sc) => sc.type === 'judge') && !s.judgeCalibration)
      ctx.addIssue({
        code: 'custom',
        path: ['judgeCalibration'],
        message: 'a suite with a judge scorer names its calibration set: { dataset: name@vN, digest: sha256:..., minCases: N }',
      });
    const names = new Set<string>();
    s.scorers.forEach((sc, i) => {
      if (names.has(sc.name)) ctx.addIssue({ code: 'custom', path: ['scorers', i, 'name'], message: `duplicate scorer name '${sc.name}'` });
      names.add(sc.name);
    });
    s.thresholds.forEach((t, i) => {
      if (!names.has(t.metric))
        ctx.addIssue({ code: 'custom', path: ['thresholds', i, 'metric'], message: `no scorer named '${t.metric}'` });
    });
  });
export type Suite = z.infer<typeof Suite>;

export interface LoadedSuite {
  suite: Suite;
  file: string;
}

export function defaultSuitesDir(): string {
  return contentPath('evals', 'suites');
}

/** Resolves a suite argument: a YAML file path, or the name of a shipped suite. */
export function loadSuite(nameOrFile: string, suitesDir = defaultSuitesDir()): LoadedSuite {
  const file = /[/\\]|\.ya?ml$/.test(nameOrFile) ? nameOrFile : join(suitesDir, `${nameOrFile}.yaml`);
  const suite = readYaml(file, Suite);
  parseDatasetRef(suite.dataset);
  return { suite, file };
}

/** The field paths a suite reads from dataset cases (not from the target's output), with where they sit in the suite. */
function casePaths(suite: Suite): Array<{ path: (string | number)[]; field: string }> {
  const out: Array<{ path: (string | number)[]; field: string }> = [];
  suite.scorers.forEach((sc, i) => {
    if ('expected' in sc) out.push({ path: ['scorers', i, 'expected'], field: sc.expected });
    if (sc.type === 'judge' && 'case' in sc.rubric) out.push({ path: ['scorers', i, 'rubric', 'case'], field: sc.rubric.case });
  });
  if (suite.target.kind === 'dataset-field') out.push({ path: ['target', 'field'], field: `input.${suite.target.field}` });
  return out;
}

/**
 * Re-reads a suite file checking that every field path it reads from the dataset resolves in at
 * least one case: a typo such as `expected.priorty` would otherwise score 0 on every case. The
 * error names the suite file, the line and the field.
 */
export function checkCasePaths(file: string, dataset: Dataset): void {
  readYaml(
    file,
    Suite.superRefine((s, ctx) => {
      for (const { path, field } of casePaths(s)) {
        if (dataset.cases.some((c) => getField(c, field) !== undefined)) continue;
        ctx.addIssue({ code: 'custom', path, message: `field path '${field}' resolves in no case of ${s.dataset}` });
      }
    }),
  );
}

export function listSuites(suitesDir = defaultSuitesDir()): string[] {
  return readdirSync(suitesDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

/**
 * Reads a field path. A step through null yields null (`award.bidId` of a null award is null,
 * "no award"); a missing key or a step into a non-object yields undefined; `[*]` maps the rest
 * of the path over a list.
 */
export function getField(value: unknown, path: string): unknown {
  return walk(value, path.match(/[^.[\]]+/g) ?? []);
}

function walk(cur: unknown, parts: readonly string[]): unknown {
  if (parts.length === 0) return cur;
  if (cur === null) return null;
  const [part, ...rest] = parts as [string, ...string[]];
  if (part === '*') return Array.isArray(cur) ? cur.map((x) => walk(x, rest)) : undefined;
  if (typeof cur !== 'object') return undefined;
  return walk((cur as Record<string, unknown>)[part], rest);
}
