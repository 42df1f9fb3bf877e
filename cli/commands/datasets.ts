import type { Command } from 'commander';
import { InputError } from '../../common/index.js';
import { defaultDatasetsRoot, generateDataset, generators, verifyDatasets } from '../../datasets/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';

function intOption(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new InputError(`${flag} must be a non-negative integer, got '${value}'`, { field: flag });
  return Number(value);
}

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('versioned eval datasets: generate and verify');

  withJson(
    datasets
      .command('generate')
      .description(`generate a rule-labelled dataset deterministically (${Object.keys(generators).join(', ')})`)
      .argument('<name>', 'generator name')
      .option('--seed <n>', "seed (default: the generator's published seed)")
      .option('--count <n>', 'number of cases (default: the published count)')
      .option('--dataset-version <vN>', 'version folder to write (default: the published version)')
      .option('--root <dir>', 'datasets folder', undefined),
  ).action(
    action((name: string, opts: { seed?: string; count?: string; datasetVersion?: string; root?: string; json?: boolean }) => {
      if (opts.datasetVersion !== undefined && !/^v\d+$/.test(opts.datasetVersion))
        throw new InputError('--dataset-version must look like v1', { field: '--dataset-version' });
      const card = generateDataset(name, {
        ...(opts.seed !== undefined ? { seed: intOption(opts.seed, '--seed') } : {}),
        ...(opts.count !== undefined ? { count: intOption(opts.count, '--count') } : {}),
        ...(opts.datasetVersion ? { version: opts.datasetVersion } : {}),
        ...(opts.root ? { root: opts.root } : {}),
      });
      if (opts.json) printJson({ ok: true, card });
      else printLine(`wrote ${card.name}@${card.version}: ${card.cases} cases, sha256 ${card.sha256}`);
    }),
  );

  withJson(
    datasets
      .command('verify')
      .description('check every dataset version: card, sha256 of data.jsonl, JSON Schema of every line')
      .option('--root <dir>', 'datasets folder', undefined),
  ).action(
    action((opts: { root?: string; json?: boolean }) => {
      const checks = verifyDatasets(opts.root ?? defaultDatasetsRoot());
      const ok = checks.every((c) => c.ok);
      if (opts.json) printJson({ ok, datasets: checks });
      else
        printTable(
          ['dataset', 'ok', 'cases', 'digest / error'],
          checks.map((c) => [c.ref, c.ok ? 'ok' : 'FAIL', c.cases, c.ok ? c.digest : c.error]),
        );
      return ok ? 0 : 1;
    }),
  );
}
