import type { Command } from 'commander';
import { defaultDatasetsRoot, verifyDatasets } from '../../../datasets/index.js';
import { printJson, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';

/**
 * `charter datasets verify`: card, sha256 and JSON Schema of every line of every dataset version;
 * exit 1 on a finding (changed data, a version without a card), 2 on a bad line.
 */
export function registerDatasetsVerify(datasets: Command): void {
  withJson(
    datasets
      .command('verify')
      .description(
        'check every dataset version: card, sha256 of data.jsonl, JSON Schema of every line; exit 1 on a finding, 2 on a bad line',
      )
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action((opts: { datasetsDir?: string; json?: boolean }) => {
      const checks = verifyDatasets(opts.datasetsDir ?? defaultDatasetsRoot());
      const ok = checks.every((c) => c.ok);
      if (opts.json) printJson({ ok, datasets: checks });
      else
        printTable(
          ['dataset', 'ok', 'cases', 'digest / error'],
          checks.map((c) => [c.ref, c.ok ? 'ok' : 'FAIL', c.cases, c.ok ? c.digest : c.error]),
        );
      // Bad input (a malformed line) outranks a finding (changed data, a missing card).
      return checks.reduce((code, c) => Math.max(code, c.ok ? 0 : (c.exitCode ?? 1)), 0);
    }),
  );
}
