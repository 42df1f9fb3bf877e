import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError } from '../../../common/index.js';
import { calibrateJudge, DEFAULT_CALIBRATION_DATASET, saveCalibration } from '../../../evals/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { judgeFrom, positiveInt, signerFrom } from './shared.js';

export function registerCalibrate(evals: Command): void {
  withJson(
    evals
      .command('calibrate')
      .description(
        "measure the judge's agreement with the hand-labelled set (accuracy, Cohen's kappa); a judge under its minKappa cannot gate",
      )
      .option('--judge <file>', 'judge config YAML (default $CHARTER_HOME/judge.yaml)')
      .option('--dataset <ref>', 'labelled dataset', DEFAULT_CALIBRATION_DATASET)
      .option('--no-cache', 'do not reuse cached judge answers')
      .option('--key <file|kms:id>', 'signing key for the calibration record (default $CHARTER_HOME/keys/eval-report.key.pem)')
      .option('--concurrency <n>', 'judge calls in flight', '4')
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action(
      async (opts: {
        judge?: string;
        dataset: string;
        cache?: boolean;
        key?: string;
        concurrency: string;
        datasetsDir?: string;
        json?: boolean;
      }) => {
        const judge = judgeFrom(opts.judge, opts.cache === false);
        if (!judge)
          throw new InputError(`no judge configured: pass --judge FILE or create ${join(charterHome(), 'judge.yaml')}`, {
            field: '--judge',
          });
        const signer = await signerFrom(opts.key);
        const c = await calibrateJudge({
          judge,
          dataset: opts.dataset,
          concurrency: positiveInt(opts.concurrency, '--concurrency'),
          ...(opts.datasetsDir ? { datasetsRoot: opts.datasetsDir } : {}),
        });
        const file = await saveCalibration(c, signer);
        if (opts.json) printJson({ ok: c.passed, file, calibration: c });
        else {
          printLine(
            `judge ${String(c.judge.identity.provider)}:${String(c.judge.identity.model)} on ${c.dataset.ref}: accuracy ${c.accuracy.toFixed(3)}, kappa ${c.kappa.toFixed(3)} (min ${c.minKappa}), ${c.errors} error(s) -> ${c.passed ? 'MAY GATE' : 'MAY NOT GATE'}`,
          );
          for (const d of c.disagreements) printLine(`  ${d.id}: labelled ${d.expected}, judged ${d.judged} (${d.reason.slice(0, 100)})`);
          printLine(`calibration: ${file}`);
        }
        return c.passed ? 0 : 1;
      },
    ),
  );
}
