import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../common/index.js';
import type { DataCard, DatasetCase } from './card.js';
import { parseJsonl } from './dataset.js';

export type CardText = Pick<DataCard, 'purpose' | 'howMade' | 'labels' | 'labelledBy' | 'limitations' | 'generator'>;

/** One JSON object per line, keys in the order the generator built them, trailing newline. */
export function toJsonl(cases: readonly DatasetCase[]): string {
  return cases.map((c) => JSON.stringify(c)).join('\n') + '\n';
}

/** The card a version with these cases gets (its sha256 is that of the JSONL text written). */
export function datasetCard(name: string, version: string, text: CardText, cases: readonly DatasetCase[]): DataCard {
  return { name, version, ...text, cases: cases.length, sha256: createHash('sha256').update(toJsonl(cases)).digest('hex') };
}

/**
 * Writes `<root>/<name>/<version>/{data.jsonl,schema.json,card.yaml}`. The lines are validated
 * against the schema first, so a generator bug never produces a dataset that fails to load;
 * the card is written last, so an interrupted write leaves a version that fails verification.
 */
export function writeDatasetVersion(root: string, name: string, version: string, text: CardText, schema: object, cases: readonly DatasetCase[]): DataCard {
  const dir = join(root, name, version);
  const data = toJsonl(cases);
  parseJsonl(data, join(dir, 'data.jsonl'), schema);
  const card = datasetCard(name, version, text, cases);
  writeFileAtomic(join(dir, 'data.jsonl'), data);
  writeFileAtomic(join(dir, 'schema.json'), JSON.stringify(schema, null, 2) + '\n');
  writeFileAtomic(join(dir, 'card.yaml'), stringify(card, { lineWidth: 100 }));
  return card;
}
