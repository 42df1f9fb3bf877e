import type { Command } from 'commander';
import { registerDatasetsGenerate } from './generate.js';
import { registerDatasetsVerify } from './verify.js';

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets');
  registerDatasetsGenerate(datasets);
  registerDatasetsVerify(datasets);
}
