import type { DatasetCase } from '../card.js';
import type { CardText } from '../write.js';

/**
 * A seeded dataset generator for a task whose truth is defined by rules: the same seed and
 * count always produce the same lines, and the card says how the labels were derived.
 */
export interface DatasetGenerator {
  name: string;
  /** The dataset version this generator's output is published as. */
  version: string;
  defaultSeed: number;
  defaultCount: number;
  minCount: number;
  card: Omit<CardText, 'generator'>;
  /** JSON Schema (2020-12) of one line. */
  schema: object;
  generate(seed: number, count: number): DatasetCase[];
}
