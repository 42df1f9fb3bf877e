import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, readYaml } from '../common/index.js';
import { DataCard } from './card.js';
import type { DatasetCase } from './card.js';
import { defaultDatasetsRoot } from './dataset.js';
import { generators, type DatasetGenerator } from './generators/index.js';
import { datasetCard, writeDatasetVersion } from './write.js';

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

/**
 * `charter datasets generate NAME --seed N`: deterministic, writes data, schema and card. A
 * published version (its card exists) is immutable: regenerating it byte for byte is a no-op,
 * anything else is an input error asking for a new version.
 */
export function generateDataset(name: string, opts: GenerateOptions = {}): DataCard {
  const g = generatorFor(name);
  const seed = opts.seed ?? g.defaultSeed;
  const count = opts.count ?? g.defaultCount;
  const cases = generateCases(name, { seed, count });
  const root = opts.root ?? defaultDatasetsRoot();
  const version = opts.version ?? g.version;
  const text = { ...g.card, generator: { name: g.name, seed, count } };
  const cardFile = join(root, g.name, version, 'card.yaml');
  if (existsSync(cardFile)) {
    const published = readYaml(cardFile, DataCard);
    const next = datasetCard(g.name, version, text, cases);
    if (next.sha256 === published.sha256) return published;
    const n = Number(version.slice(1));
    throw new InputError(
      `${g.name}@${version} is published and never rewritten (its data would change: seed ${seed}, ${count} cases); write a new version with --dataset-version v${n + 1}`,
      { file: cardFile, field: '--dataset-version' },
    );
  }
  return writeDatasetVersion(root, g.name, version, text, g.schema, cases);
}
