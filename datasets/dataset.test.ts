import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CharterError, FindingError, InputError } from '../common/index.js';
import { defaultDatasetsRoot, generateCases, generators, listDatasets, loadDataset, parseDatasetRef, parseJsonl, toJsonl, verifyDatasets } from './index.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const schema = JSON.parse(readFileSync(fixture('bad-lines.schema.json'), 'utf8')) as object;

function errorOf(fn: () => unknown): CharterError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CharterError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('malformed dataset lines', () => {
  it.each([
    ['out-of-range.jsonl', 3, 'input.profitImpact', 'must be <= 1'],
    ['missing-field.jsonl', 2, 'input.profitImpact', "must have required property 'profitImpact'"],
    ['truncated.jsonl', 2, undefined, 'invalid JSON'],
    ['duplicate-id.jsonl', 2, 'id', "duplicate id 'a' (first on line 1)"],
    ['blank-line.jsonl', 2, undefined, 'blank line'],
  ])('%s: names file, line %i and field %s', (name, line, field, message) => {
    const file = fixture(name);
    const err = errorOf(() => parseJsonl(readFileSync(file, 'utf8'), file, schema));
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    expect(err.location).toEqual({ file, line, ...(field ? { field } : {}) });
    expect(err.message).toContain(message);
  });
});

describe('shipped datasets', () => {
  it('all verify (card, sha256, schema of every line)', () => {
    const checks = verifyDatasets();
    expect(checks.map((c) => c.ref)).toEqual(expect.arrayContaining(['kraljic-classification@v1', 'bid-evaluation@v1', 'tool-call-safety@v1', 'award-communications@v1', 'judge-calibration@v1']));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('meet the issue\'s minimum sizes', () => {
    expect(loadDataset('kraljic-classification@v1').cases.length).toBeGreaterThanOrEqual(200);
    expect(loadDataset('tool-call-safety@v1').cases.length).toBeGreaterThanOrEqual(150);
  });

  it('are reproduced byte for byte by their generator and seed', () => {
    for (const { name, version } of listDatasets()) {
      const d = loadDataset({ name, version });
      if (!d.card.generator) {
        expect(d.card.labelledBy).toBe('human');
        continue;
      }
      const { seed, count } = d.card.generator;
      expect(generators[name], name).toBeDefined();
      expect(toJsonl(generateCases(name, { seed, count })), name).toBe(readFileSync(join(d.dir, 'data.jsonl'), 'utf8'));
    }
  });

  it('a different seed gives different data', () => {
    expect(toJsonl(generateCases('kraljic-classification', { seed: 2 }))).not.toBe(toJsonl(generateCases('kraljic-classification', { seed: 1 })));
  });
});

describe('tampering and references', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a changed data.jsonl no longer matches its card (finding, exit 1)', () => {
    dir = mkdtempSync(join(tmpdir(), 'charter-ds-'));
    cpSync(join(defaultDatasetsRoot(), 'kraljic-classification'), join(dir, 'kraljic-classification'), { recursive: true });
    const data = join(dir, 'kraljic-classification', 'v1', 'data.jsonl');
    writeFileSync(data, readFileSync(data, 'utf8').replace('"Strategic"', '"Leverage"'));
    const err = errorOf(() => loadDataset('kraljic-classification@v1', dir));
    expect(err).toBeInstanceOf(FindingError);
    expect(err.message).toContain('does not match the data card');
    expect(verifyDatasets(dir)).toEqual([expect.objectContaining({ ok: false, ref: 'kraljic-classification@v1' })]);
  });

  it('references must be name@vN', () => {
    expect(parseDatasetRef('bid-evaluation@v1')).toEqual({ name: 'bid-evaluation', version: 'v1' });
    expect(() => parseDatasetRef('bid-evaluation')).toThrow(InputError);
    expect(() => loadDataset('no-such-dataset@v1')).toThrow(/not found/);
  });
});
