import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CharterError, FindingError, InputError, contentPath, readJson, readText, readYaml } from '../common/index.js';
import { DataCard, DatasetCase } from './card.js';
import { ajvErrorField, compileJsonSchema } from './json-schema.js';
import { z } from 'zod';

export interface Dataset {
  name: string;
  version: string;
  dir: string;
  card: DataCard;
  /** The case schema (JSON Schema 2020-12) every line was validated against. */
  schema: object;
  cases: DatasetCase[];
  /** `sha256:<hex>` of data.jsonl's bytes. */
  digest: string;
}

export interface DatasetRef {
  name: string;
  version: string;
}

/** Embedded datasets ship with Charter; a flag may name another root. */
export function defaultDatasetsRoot(): string {
  return contentPath('datasets');
}

/** Parses `name@vN`. */
export function parseDatasetRef(ref: string): DatasetRef {
  const m = /^([a-z0-9][a-z0-9-]*)@(v\d+)$/.exec(ref);
  if (!m) throw new InputError(`dataset reference '${ref}' must look like name@v1`, { field: 'dataset' });
  return { name: m[1]!, version: m[2]! };
}

const JsonObject = z.record(z.string(), z.unknown());

/**
 * Parses and validates JSONL text line by line: the first bad line is an InputError naming
 * the file, the line and the field. Blank lines are not allowed (they usually mean a
 * truncated or hand-edited file). Ids must be unique.
 */
export function parseJsonl(text: string, file: string, schema: object): DatasetCase[] {
  const validate = compileJsonSchema(schema);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const seen = new Map<string, number>();
  return lines.map((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') throw new InputError('blank line', { file, line: lineNo });
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new InputError(`invalid JSON: ${(err as Error).message.replace(/ in JSON at position.*$/, '')}`, { file, line: lineNo });
    }
    if (!validate(value)) {
      const e = validate.errors![0]!;
      throw new InputError(e.message ?? 'does not match the schema', { file, line: lineNo, field: ajvErrorField(e) });
    }
    const parsed = DatasetCase.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(issue.message, { file, line: lineNo, field: issue.path.join('.') || '(root)' });
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) throw new InputError(`duplicate id '${parsed.data.id}' (first on line ${first})`, { file, line: lineNo, field: 'id' });
    seen.set(parsed.data.id, lineNo);
    return parsed.data;
  });
}

/**
 * Loads one dataset version, checking (in this order, failing closed) the card, the digest
 * of data.jsonl against the card, the schema, every line, and the case count.
 */
export function loadDataset(ref: string | DatasetRef, root = defaultDatasetsRoot()): Dataset {
  const { name, version } = typeof ref === 'string' ? parseDatasetRef(ref) : ref;
  const dir = join(root, name, version);
  if (!existsSync(dir)) throw new InputError(`dataset ${name}@${version} not found`, { file: dir });
  const cardFile = join(dir, 'card.yaml');
  const card = readYaml(cardFile, DataCard);
  if (card.name !== name || card.version !== version) {
    throw new InputError(`card names ${card.name}@${card.version}, expected ${name}@${version}`, { file: cardFile, field: 'name' });
  }
  const dataFile = join(dir, 'data.jsonl');
  const bytes = readText(dataFile);
  // datasets may use only common/ (architecture.md), hence node:crypto rather than signing/.
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== card.sha256) {
    throw new FindingError(`sha256 ${digest} does not match the data card (${card.sha256})`, { file: dataFile });
  }
  const schemaFile = join(dir, 'schema.json');
  const schema = readJson(schemaFile, JsonObject);
  const cases = parseJsonl(bytes, dataFile, schema);
  if (cases.length !== card.cases) throw new FindingError(`${cases.length} cases, the data card says ${card.cases}`, { file: cardFile, field: 'cases' });
  return { name, version, dir, card, schema, cases, digest: `sha256:${digest}` };
}

/** Every `<name>/<vN>` folder under a datasets root, with a card or not (verify reports those without). */
export function listDatasets(root = defaultDatasetsRoot()): DatasetRef[] {
  const out: DatasetRef[] = [];
  for (const name of readdirSync(root).sort()) {
    const nameDir = join(root, name);
    if (!statSync(nameDir).isDirectory()) continue;
    for (const version of readdirSync(nameDir).sort()) {
      if (/^v\d+$/.test(version) && statSync(join(nameDir, version)).isDirectory()) out.push({ name, version });
    }
  }
  return out;
}

export interface DatasetCheck {
  ref: string;
  ok: boolean;
  cases?: number;
  digest?: string;
  error?: string;
  /** The CLI exit code this outcome calls for: 1 a finding (changed data, missing card), 2 bad input (a bad line). */
  exitCode?: number;
}

/**
 * `charter datasets verify`: loads every dataset version, collecting each one's outcome. A
 * version folder without a card is a failure (an unpublished or half-written version), and so
 * is a root with no dataset versions at all.
 */
export function verifyDatasets(root = defaultDatasetsRoot()): DatasetCheck[] {
  const refs = listDatasets(root);
  if (refs.length === 0) return [{ ref: root, ok: false, error: 'no dataset versions (<name>/<vN>/) under this folder', exitCode: 1 }];
  return refs.map(({ name, version }) => {
    const ref = `${name}@${version}`;
    const cardFile = join(root, name, version, 'card.yaml');
    if (!existsSync(cardFile)) return { ref, ok: false, error: `${cardFile}: no data card (card.yaml)`, exitCode: 1 };
    try {
      const d = loadDataset({ name, version }, root);
      return { ref, ok: true, cases: d.cases.length, digest: d.digest };
    } catch (err) {
      if (!(err instanceof CharterError)) throw err;
      return { ref, ok: false, error: err.message, exitCode: err.exitCode };
    }
  });
}
