import { InputError } from '../common/index.js';
import type { DataCard, DatasetCase } from './card.js';
import { defaultDatasetsRoot } from './dataset.js';
import { generators, type DatasetGenerator } from './generators/index.js';
import { writeDatasetVersion } from './write.js';

export function generatorFor(name: string): DatasetGenerator {
  const g = generators[name];
  if (!g) throw new InputError(`no generator named '${name}' (one of ${Object.keys(generators).join(', ')})`, { field: 'name' });
  return g;
}

export interface GenerateOptions {
  seed?: number;
  count?: number;
  /** Where to write; default: the embedded datasets folder. */
  root?: string;
  /** Default: the generator's published version. */
  version?: string;
}

/** Generates cases in memory (benchmarks, tests) without writing anything. */
export function generateCases(name: string, opts: { seed?: number; count?: number } = {}): DatasetCase[] {
  const g = generatorFor(name);
  const count = opts.count ?? g.defaultCount;
  if (!Number.isInteger(count) || count < g.minCount) throw new InputError(`count must be an integer >= ${g.minCount}`, { field: '--count' });
  return g.generate(opts.seed ?? g.defaultSeed, count);
}

/** `charter datasets generate NAME --seed N`: deterministic, writes data, schema and card. */
export function generateDataset(name: string, opts: GenerateOptions = {}): DataCard {
  const g = generatorFor(name);
  const seed = opts.seed ?? g.defaultSeed;
  const count = opts.count ?? g.defaultCount;
  const cases = generateCases(name, { seed, count });
  return writeDatasetVersion(opts.root ?? defaultDatasetsRoot(), g.name, opts.version ?? g.version, { ...g.card, generator: { name: g.name, seed, count } }, g.schema, cases);
}
