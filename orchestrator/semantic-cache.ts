import { sha256Hex } from '../signing/index.js';

const STOP_WORDS = new Set(['and', 'or', 'of', 'for', 'the', 'a', 'an', '&', 'with', 'supplies', 'supply', 'services', 'service']);

/** Scores are bucketed to this width: two categories this close are the same question. */
const BUCKET = 0.05;

function normaliseWord(w: string): string {
  // Plural folding is enough to make "Office Chairs" and "office chair" one category.
  return w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w;
}

/**
 * The key of the Kraljic semantic cache (node 2). The name is reduced to its content words
 * (lower case, stop words dropped, plurals folded, order ignored) and the scores to 0.05
 * buckets, plus the side of each threshold (a bucket may straddle one); the tenant's
 * thresholds are part of the key because they change the answer.
 */
export function classificationCacheKey(input: {
  name: string;
  profitImpact: number;
  supplyRisk: number;
  thresholds: { profitImpact: number; supplyRisk: number };
}): string {
  const words = input.name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !STOP_WORDS.has(w))
    .map(normaliseWord)
    .sort();
  const bucket = (x: number) => Math.round(x / BUCKET);
  const t = input.thresholds;
  const sides = [input.profitImpact >= t.profitImpact, input.supplyRisk >= t.supplyRisk];
  return sha256Hex(
    JSON.stringify([[...new Set(words)], bucket(input.profitImpact), bucket(input.supplyRisk), sides, t.profitImpact, t.supplyRisk]),
  );
}
