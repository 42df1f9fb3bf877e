import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { charterHome, CharterError, InputError, readText, writeFileAtomic } from '../common/index.js';
import { loadDataset, type Dataset } from '../datasets/index.js';
import {
  canonicalJson,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type Signer,
  type TrustedKeysFile,
} from '../signing/index.js';
import { z } from 'zod';
import type { Judge } from './judge/grader.js';
import { runSuite } from './run.js';
import { confusionMatrix, kappaInterval } from './stats.js';
import { Suite, type JudgeCalibrationPin } from './suite.js';
import { datasetFieldTarget } from './targets.js';

export const CALIBRATION_PAYLOAD_TYPE = 'application/vnd.charter.judge-calibration+json';
export const DEFAULT_CALIBRATION_DATASET = 'judge-calibration@v1';

/**
 * Per-label counts of the calibration: `counts[i][j]` rows humans labelled `labels[i]` that the
 * judge labelled `labels[j]` ("error" when the judge failed on the row). Square, and the cells add
 * up to the calibrated rows.
 */
export const ConfusionCounts = z.object({
  labels: z.array(z.string()),
  counts: z.array(z.array(z.number().int().nonnegative())),
});

/** Version 2 added `confusion`; a version 1 record (no `version` field) has no per-label counts and still reads. */
export const CALIBRATION_VERSION = 2;

export const Calibration = z
  .object({
    apiVersion: z.literal('charter.dev/v1'),
    kind: z.literal('JudgeCalibration'),
    version: z.literal(CALIBRATION_VERSION).optional(),
    judge: z.object({ identity: z.record(z.string(), z.unknown()), digest: z.string() }),
    dataset: z.object({ ref: z.string(), digest: z.string() }),
    n: z.number(),
    errors: z.number(),
    accuracy: z.number(),
    kappa: z.number(),
    /** 95% interval of kappa (`kappaMethod`); the gate uses the lower bound. */
    kappaLow: z.number(),
    kappaHigh: z.number(),
    kappaMethod: z.literal('wilson-agreement'),
    minKappa: z.number(),
    passed: z.boolean(),
    confusion: ConfusionCounts.optional(),
    disagreements: z.array(z.object({ id: z.string(), expected: z.string(), judged: z.string(), reason: z.string() })),
    at: z.string(),
  })
  .superRefine((c, ctx) => {
    if ((c.version === CALIBRATION_VERSION) !== (c.confusion !== undefined))
      return ctx.addIssue({
        code: 'custom',
        path: ['confusion'],
        message: `version ${CALIBRATION_VERSION} records carry confusion, version 1 records do not`,
      });
    if (!c.confusion) return;
    const { labels, counts } = c.confusion;
    if (counts.length !== labels.length || counts.some((row) => row.length !== labels.length))
      ctx.addIssue({ code: 'custom', path: ['confusion', 'counts'], message: `not a ${labels.length}x${labels.length} matrix` });
    else if (counts.flat().reduce((a, b) => a + b, 0) !== c.n)
      ctx.addIssue({ code: 'custom', path: ['confusion', 'counts'], message: `the counts do not add up to n (${c.n})` });
  });
export type Calibration = z.infer<typeof Calibration>;

/** One record per judge and labelled set: calibrating on another set never replaces the one a suite pins. */
function calibrationFile(judgeDigest: string, datasetDigest: string, home: string): string {
  return join(home, 'calibration', `${judgeDigest.replace('sha256:', '')}-${datasetDigest.replace('sha256:', '')}.dsse.json`);
}

/**
 * Runs the judge over the hand-labelled set through the same llm-rubric path as a suite and
 * measures agreement. A judge error counts as its own label ("error"), so it lowers agreement
 * rather than being dropped.
 */
export async function calibrateJudge(opts: {
  judge: Judge;
  datasetsRoot?: string;
  dataset?: string;
  concurrency?: number;
}): Promise<Calibration> {
  const ref = opts.dataset ?? DEFAULT_CALIBRATION_DATASET;
  const dataset: Dataset = loadDataset(ref, opts.datasetsRoot);
  // Labels derived from a rule (or from a judge's own answers) measure nothing about the judge.
  if (dataset.card.labelledBy !== 'human')
    throw new InputError(`${ref} is labelled by '${dataset.card.labelledBy}': a judge is calibrated only against human labels`, {
      file: join(dataset.dir, 'card.yaml'),
      field: 'labelledBy',
    });
  const suite = Suite.parse({
    name: 'judge-calibration',
    description: 'judge agreement with human labels',
    target: { kind: 'dataset-field', field: 'output' },
    dataset: ref,
    scorers: [{ name: 'judge', type: 'judge', rubric: { case: 'input.rubric' } }],
    judgeCalibration: { dataset: ref, digest: dataset.digest, minCases: dataset.cases.length },
  });
  const run = await runSuite({
    suite,
    suiteFile: '(calibration)',
    dataset,
    target: datasetFieldTarget('output'),
    judge: opts.judge,
    concurrency: opts.concurrency ?? 4,
  });
  const pairs: Array<[string, string]> = [];
  const disagreements: Calibration['disagreements'] = [];
  let errors = 0;
  for (const c of run.cases) {
    const expected = String((dataset.cases.find((d) => d.id === c.id)?.expected as { label?: string } | undefined)?.label);
    const s = c.scores.judge!;
    const judged = s.status === 'ok' ? (s.pass ? 'pass' : 'fail') : 'error';
    if (judged === 'error') errors++;
    pairs.push([expected, judged]);
    if (judged !== expected) disagreements.push({ id: c.id, expected, judged, reason: s.reason });
  }
  const { accuracy, estimate: kappa, low: kappaLow, high: kappaHigh, n } = kappaInterval(pairs);
  const minKappa = opts.judge.config.minKappa;
  return {
    apiVersion: 'charter.dev/v1',
    kind: 'JudgeCalibration',
    version: CALIBRATION_VERSION,
    judge: { identity: opts.judge.identity, digest: opts.judge.digest },
    dataset: { ref, digest: dataset.digest },
    n,
    errors,
    accuracy,
    kappa,
    kappaLow,
    kappaHigh,
    kappaMethod: 'wilson-agreement',
    minKappa,
    passed: kappaLow >= minKappa && errors === 0,
    confusion: confusionMatrix(pairs),
    disagreements,
    at: new Date().toISOString(),
  };
}

/** Signs a calibration (key purpose `eval-report`) and stores it under $CHARTER_HOME/calibration/. */
export async function saveCalibration(c: Calibration, signer: Signer, home = charterHome()): Promise<string> {
  const envelope = await signEnvelope(CALIBRATION_PAYLOAD_TYPE, Buffer.from(canonicalJson(c)), [signer]);
  const file = calibrationFile(c.judge.digest, c.dataset.digest, home);
  writeFileAtomic(file, JSON.stringify(envelope, null, 2) + '\n');
  return file;
}

export interface JudgeStanding {
  gating: boolean;
  note: string | null;
  calibration: Calibration | null;
}

/**
 * Whether a judge may gate a suite: a signed calibration for exactly this judge (same identity
 * digest) on the labelled set the suite pins (same data digest, at least its minCases rows),
 * with no judge errors and the lower bound of kappa's 95% interval at the judge's minimum.
 */
export function judgeStanding(
  judge: Judge,
  pin: JudgeCalibrationPin,
  trusted: TrustedKeysFile | null,
  home = charterHome(),
): JudgeStanding {
  const file = calibrationFile(judge.digest, pin.digest, home);
  if (!existsSync(file)) return { gating: false, note: 'judge not calibrated (run charter evals calibrate)', calibration: null };
  if (!trusted) return { gating: false, note: 'no trusted keys to verify the judge calibration', calibration: null };
  let calibration: Calibration;
  try {
    const envelope: DsseEnvelope = parseEnvelope(readText(file), file);
    const { payload } = verifyEnvelope(envelope, trusted, { payloadType: CALIBRATION_PAYLOAD_TYPE, purpose: 'eval-report' });
    calibration = Calibration.parse(JSON.parse(payload.toString('utf8')));
  } catch (err) {
    if (!(err instanceof CharterError) && !(err instanceof z.ZodError)) throw err;
    return { gating: false, note: `judge calibration does not verify: ${err.message.split('\n')[0]}`, calibration: null };
  }
  if (calibration.judge.digest !== judge.digest) return { gating: false, note: 'calibration is for another judge', calibration };
  if (calibration.dataset.digest !== pin.digest)
    return {
      gating: false,
      note: `calibration is on ${calibration.dataset.digest}, the suite pins ${pin.dataset} ${pin.digest}`,
      calibration,
    };
  if (calibration.n < pin.minCases)
    return { gating: false, note: `calibration has ${calibration.n} rows, the suite requires ${pin.minCases}`, calibration };
  if (calibration.errors > 0) return { gating: false, note: `judge had ${calibration.errors} error(s) during calibration`, calibration };
  const kappaText = `kappa ${calibration.kappa.toFixed(3)} (95% lower bound ${calibration.kappaLow.toFixed(3)})`;
  if (calibration.kappaLow < judge.config.minKappa)
    return { gating: false, note: `judge ${kappaText} < required ${judge.config.minKappa}`, calibration };
  return {
    gating: true,
    note: `calibrated: ${kappaText}, accuracy ${calibration.accuracy.toFixed(3)} on ${calibration.dataset.ref} (${calibration.n} rows)`,
    calibration,
  };
}
