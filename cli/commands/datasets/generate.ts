import type { Command } from 'commander';
import { InputError } from '../../../common/index.js';
import { generateDataset, generators } from '../../../datasets/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';

function intOption(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new InputError(`${flag} must be a non-negative integer, got '${value}'`, { field: flag });
  return Number(value);
}

/** `charter datasets generate NAME`: a rule-labelled dataset, deterministically from its seed. */
export function registerDatasetsGenerate(datasets: Command): void {
  withJson(
    datasets
      .command('generate')
      .description(`generate a rule-labelled dataset deterministically (${Object.keys(generators).join(', ')})`)
      .argument('<name>', 'generator name')
      .option('--seed <n>', "seed (default: the generator's published seed)")
      .option('--count <n>', 'number of cases (default: the published count)')
      .option('--dataset-version <vN>', 'version folder to write (default: the published version)')
      .option('--datasets-dir <dir>', 'datasets folder (default: the shipped datasets)'),
  ).action(
    action((name: string, opts: { seed?: string; count?: string; datasetVersion?: string; datasetsDir?: string; json?: boolean }) => {
      if (opts.datasetVersion !== undefined && !/^v\d+$/.test(opts.datasetVersion))
        throw new InputError('--dataset-version must look like v1', { field: '--dataset-version' });
      const card = generateDataset(name, {
        ...(opts.seed !== undefined ? { seed: intOption(opts.seed, '--seed') } : {}),
        ...(opts.count !== undefined ? { count: intOption(opts.count, '--count') } : {}),
        ...(opts.datasetVersion ? { version: opts.datasetVersion } : {}),
        ...(opts.datasetsDir ? { root: opts.datasetsDir } : {}),
      });
      if (opts.json) printJson({ ok: true, card });
      else printLine(`wrote ${card.name}@${card.version}: ${card.cases} cases, sha256 ${card.sha256}`);
    }),
  );
}
