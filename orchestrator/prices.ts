import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readYaml } from '../common/index.js';

const Price = z.number().nonnegative();

/**
 * `$CHARTER_HOME/prices.yaml`: what a million tokens of each model cost, in one currency, from
 * the date the prices were valid; and the orchestrator's own running cost a month, which the
 * cost report shares out over the month's negotiations by the steps each ran.
 */
export const PriceTableFile = z.strictObject({
  /** ISO 4217 code the amounts are in. */
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency is an ISO 4217 code such as USD'),
  /** The first day these prices apply (YYYY-MM-DD); a call booked before it is left unpriced. */
  validFrom: z.iso.date(),
  models: z.record(z.string().min(1), z.strictObject({ inputPerMillionTokens: Price, outputPerMillionTokens: Price })),
  orchestrator: z.strictObject({ perMonth: Price }).default({ perMonth: 0 }),
});
export type PriceTable = z.infer<typeof PriceTableFile>;

export function pricesFile(home: string): string {
  return join(home, 'prices.yaml');
}

/** The home's price table, or undefined when it has none (costs are then counted, not priced). */
export function loadPriceTable(home: string): PriceTable | undefined {
  const file = pricesFile(home);
  return existsSync(file) ? readYaml(file, PriceTableFile) : undefined;
}

/** Amounts are kept in millionths of the currency unit, so sums are exact integers. */
export const MICROS = 1_000_000;

/**
 * What `usage` of `model` cost on `day` (YYYY-MM-DD), in micros: 0 for no model call (rules),
 * null when the table has no price for the model or was not yet valid (unpriced, never 0).
 * Tokens times the price of a million tokens is the amount in micros.
 */
export function modelCostMicros(
  table: PriceTable | undefined,
  model: string,
  day: string,
  usage: { modelCalls: number; inputTokens: number; outputTokens: number },
): number | null {
  if (usage.modelCalls === 0) return 0;
  const price = table && day >= table.validFrom && Object.hasOwn(table.models, model) ? table.models[model] : undefined;
  if (!price) return null;
  return Math.round(usage.inputTokens * price.inputPerMillionTokens + usage.outputTokens * price.outputPerMillionTokens);
}

/**
 * Shares `total` micros out over `weights` in proportion, exactly: each gets the floor of its
 * share and the micros left go to the largest remainders, so the shares add up to the total.
 */
export function prorate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    shares[i]!++;
    left--;
  }
  return shares;
}
