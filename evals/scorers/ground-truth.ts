import { isDeepStrictEqual } from 'node:util';
import type { ValidateFunction } from 'ajv';
import { ajvErrorField, compileJsonSchema } from '../../datasets/index.js';
import type { ScoreResult } from './types.js';

const verdict = (pass: boolean, reason: string): ScoreResult => ({ value: pass ? 1 : 0, pass, reason });
const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));

export function exactMatch(actual: unknown, expected: unknown): ScoreResult {
  const pass = isDeepStrictEqual(actual, expected);
  return verdict(pass, pass ? 'equal' : `got ${show(actual)}, expected ${show(expected)}`);
}

export function numericMatch(actual: unknown, expected: unknown, tolerance: number): ScoreResult {
  if (typeof actual !== 'number' || typeof expected !== 'number')
    return verdict(false, `got ${show(actual)}, expected the number ${show(expected)}`);
  const diff = Math.abs(actual - expected);
  // A hair of slack so 0.81 vs 0.8 at tolerance 0.01 is not failed by binary rounding.
  return verdict(diff <= tolerance + 1e-12, `|${actual} - ${expected}| = ${diff.toPrecision(3)} (tolerance ${tolerance})`);
}

function asSet(v: unknown): Set<string> | undefined {
  return Array.isArray(v) ? new Set(v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))) : undefined;
}

/** Set agreement: Jaccard |A∩B|/|A∪B|, F1 of precision and recall, or exact set equality. Two empty sets agree fully. */
export function setMatch(actual: unknown, expected: unknown, measure: 'jaccard' | 'f1' | 'equal'): ScoreResult {
  const a = asSet(actual);
  const e = asSet(expected);
  if (!a || !e) return verdict(false, `got ${show(actual)}, expected a list like ${show(expected)}`);
  const inter = [...a].filter((x) => e.has(x)).length;
  const union = a.size + e.size - inter;
  if (measure === 'equal') return verdict(inter === union, inter === union ? 'same set' : `${union - inter} element(s) differ`);
  const value = union === 0 ? 1 : measure === 'jaccard' ? inter / union : (2 * inter) / (a.size + e.size);
  return { value, pass: value === 1, reason: `${measure} ${value.toFixed(3)} (${inter} shared of ${a.size} got / ${e.size} expected)` };
}

/**
 * nDCG@k with graded relevance from the expected ranking (first = n, last = 1, absent = 0).
 * An empty expected ranking is matched only by an empty answer.
 */
export function ndcg(actual: unknown, expected: unknown, k?: number): ScoreResult {
  if (!Array.isArray(actual) || !Array.isArray(expected))
    return { value: 0, pass: false, reason: `got ${show(actual)}, expected a ranking` };
  if (expected.length === 0) return verdict(actual.length === 0, actual.length === 0 ? 'both empty' : 'expected no ranking');
  const n = expected.length;
  const cut = k ?? n;
  const rel = new Map(expected.map((id, i) => [JSON.stringify(id), n - i]));
  const dcg = (list: unknown[]) =>
    list.slice(0, cut).reduce<number>((sum, id, j) => sum + (rel.get(JSON.stringify(id)) ?? 0) / Math.log2(j + 2), 0);
  const value = dcg(actual) / dcg(expected);
  return { value, pass: value >= 1 - 1e-12, reason: `nDCG@${cut} ${value.toFixed(4)}` };
}

/** Top-1: the first element of both rankings agree (both empty also agree: "no award"). */
export function top1(actual: unknown, expected: unknown): ScoreResult {
  if (!Array.isArray(actual) || !Array.isArray(expected)) return verdict(false, `got ${show(actual)}, expected a ranking`);
  return exactMatch(actual[0] ?? null, expected[0] ?? null);
}

export function jsonSchemaCheck(validate: ValidateFunction, value: unknown): ScoreResult {
  if (validate(value)) return verdict(true, 'valid');
  const e = validate.errors![0]!;
  return verdict(false, `${ajvErrorField(e)}: ${e.message ?? 'invalid'}`);
}

export { compileJsonSchema };
