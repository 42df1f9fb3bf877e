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

/**
 * The JSON Schema of one dataset line: `{id, input, expected, tags}` with no other fields, the
 * id matching `idPattern`; `defs` become `$defs` for `$ref`s inside input or expected.
 */
export function lineSchema(idPattern: string, input: object, expected: object, defs?: object): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(defs ? { $defs: defs } : {}),
    type: 'object',
    required: ['id', 'input', 'expected', 'tags'],
    additionalProperties: false,
    properties: { id: { type: 'string', pattern: idPattern }, input, expected, tags: { type: 'array', items: { type: 'string' } } },
  };
}
