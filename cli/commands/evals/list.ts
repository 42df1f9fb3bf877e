import type { Command } from 'commander';
import { listSuites, suiteEvidence } from '../../../evals/index.js';
import { printJson, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';

export function registerList(evals: Command): void {
  withJson(
    evals
      .command('list')
      .description('the shipped suites with what a manifest threshold pins: suite digest, dataset digest, cases')
      .option('--suites-dir <dir>', 'suites folder')
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action((opts: { suitesDir?: string; datasetsDir?: string; json?: boolean }) => {
      const suites = listSuites(opts.suitesDir).map((n) => suiteEvidence(n, opts.suitesDir, opts.datasetsDir));
      if (opts.json) printJson({ ok: true, suites });
      else
        printTable(
          ['suite', 'suiteDigest', 'dataset', 'datasetDigest', 'cases'],
          suites.map((s) => [s.suite, s.suiteDigest, s.dataset, s.datasetDigest, s.cases]),
        );
    }),
  );
}
