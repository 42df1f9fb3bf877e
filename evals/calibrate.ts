import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { charterHome, CharterError, readText, writeFileAtomic } from '../common/index.js';
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
import { cohenKappa } from './stats.js';
import { Suite } from './suite.js';
import { datasetFieldTarget } from './targets.js';

export const CALIBRATION_PAYLOAD_TYPE = 'application/vnd.charter.judge-calibration+json';
export const DEFAULT_CALIBRATION_DATASET = 'judge-calibration@v1';

export const Calibration = z.object({
  apiVersion: z.literal('charter.dev/v1'),
  kind: z.literal('JudgeCalibration'),
  judge: z.object({ identity: z.record(z.string(), z.unknown()), digest: z.string() }),
  dataset: z.object({ ref: z.string(), digest: z.string() }),
  n: z.number(),
  errors: z.number(),
  accuracy: z.number(),
  kappa: z.number(),
  minKappa: z.number(),
  passed: z.boolean(),
  disagreements: z.array(z.object({ id: z.string(), expected: z.string(), judged: z.string(), reason: z.string() })),
  at: z.string(),
});
export type Calibration = z.infer<typeof Calibration>;

function calibrationFile(judgeDigest: string, home: string): string {
  return join(home, 'calibration', `${judgeDigest.replace('sha256:', '')}.dsse.json`);
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
  const suite = Suite.parse({
    name: 'judge-calibration',
    description: 'judge agreement with human labels',
    target: { kind: 'dataset-field', field: 'output' },
    dataset: ref,
    scorers: [{ name: 'judge', type: 'judge', rubric: { case: 'input.rubric' } }],
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
  const { accuracy, kappa, n } = cohenKappa(pairs);
  const minKappa = opts.judge.config.minKappa;
  return {
    apiVersion: 'charter.dev/v1',
    kind: 'JudgeCalibration',
    judge: { identity: opts.judge.identity, digest: opts.judge.digest },
    dataset: { ref, digest: dataset.digest },
    n,
    errors,
    accuracy,
    kappa,
    minKappa,
    passed: kappa >= minKappa && errors === 0,
    disagreements,
    at: new Date().toISOString(),
  };
}

/** Signs a calibration (key purpose `eval-report`) and stores it under $CHARTER_HOME/calibration/. */
export async function saveCalibration(c: Calibration, signer: Signer, home = charterHome()): Promise<string> {
  const envelope = await signEnvelope(CALIBRATION_PAYLOAD_TYPE, Buffer.from(canonicalJson(c)), [signer]);
  const file = calibrationFile(c.judge.digest, home);
  writeFileAtomic(file, JSON.stringify(envelope, null, 2) + '\n');
  return file;
}

export interface JudgeStanding {
  gating: boolean;
  note: string | null;
  calibration: Calibration | null;
}

/**
 * Whether a judge may gate: a signed calibration for exactly this judge (same identity digest)
 * whose kappa reaches the judge's configured minimum and that had no judge errors.
 */
export function judgeStanding(judge: Judge, trusted: TrustedKeysFile | null, home = charterHome()): JudgeStanding {
  const file = calibrationFile(judge.digest, home);
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
  if (calibration.errors > 0) return { gating: false, note: `judge had ${calibration.errors} error(s) during calibration`, calibration };
  if (calibration.kappa < judge.config.minKappa) {
    return { gating: false, note: `judge kappa ${calibration.kappa.toFixed(3)} < required ${judge.config.minKappa}`, calibration };
  }
  return {
    gating: true,
    note: `calibrated: kappa ${calibration.kappa.toFixed(3)}, accuracy ${calibration.accuracy.toFixed(3)} on ${calibration.dataset.ref}`,
    calibration,
  };
}
