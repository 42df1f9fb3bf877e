import { z } from 'zod';

/**
 * Kraljic classification (DAG node 2): a category is placed by profit impact x supply risk
 * against the tenant's thresholds (default 0.5; a score equal to the threshold counts as high).
 *   high profit, high risk -> Strategic      high profit, low risk -> Leverage
 *   low profit,  high risk -> Bottleneck     low profit,  low risk -> Non-Critical
 */
export const KraljicQuadrant = z.enum(['Non-Critical', 'Leverage', 'Bottleneck', 'Strategic']);
export type KraljicQuadrant = z.infer<typeof KraljicQuadrant>;

export const DEFAULT_KRALJIC_THRESHOLD = 0.5;
/** Below this a model's classification is kept but flagged (seed 000: "logs a warning but proceeds"). */
export const KRALJIC_MIN_CONFIDENCE = 0.8;

const Score = z.number().min(0).max(1);

export const KraljicThresholds = z.object({ profitImpact: Score, supplyRisk: Score });
export type KraljicThresholds = z.infer<typeof KraljicThresholds>;

export const KraljicInput = z.object({
  categoryId: z.string().min(1),
  name: z.string().optional(),
  profitImpact: Score,
  supplyRisk: Score,
  /** The tenant's thresholds; omitted -> the default 0.5 on both axes. */
  thresholds: KraljicThresholds.partial().optional(),
});
export type KraljicInput = z.infer<typeof KraljicInput>;

export interface KraljicClassification {
  categoryId: string;
  quadrant: KraljicQuadrant;
  confidence: number;
  /** `model`: the model's answer was used; `rule-based`: the deterministic rule decided. */
  method: 'model' | 'rule-based';
  /** Why the answer needs a human look (low confidence, fallback), empty when none. */
  warnings: string[];
}

export function resolveThresholds(t: KraljicInput['thresholds']): KraljicThresholds {
  return { profitImpact: t?.profitImpact ?? DEFAULT_KRALJIC_THRESHOLD, supplyRisk: t?.supplyRisk ?? DEFAULT_KRALJIC_THRESHOLD };
}

export function kraljicQuadrant(profitImpact: number, supplyRisk: number, thresholds: KraljicThresholds): KraljicQuadrant {
  const highProfit = profitImpact >= thresholds.profitImpact;
  const highRisk = supplyRisk >= thresholds.supplyRisk;
  if (highProfit) return highRisk ? 'Strategic' : 'Leverage';
  return highRisk ? 'Bottleneck' : 'Non-Critical';
}

/**
 * The deterministic classifier. Rule-based answers carry confidence 0.0 (seed 000): no model
 * vouched for them, so downstream consumers can tell them from a confident model answer.
 */
export function classifyKraljic(input: KraljicInput): KraljicClassification {
  const quadrant = kraljicQuadrant(input.profitImpact, input.supplyRisk, resolveThresholds(input.thresholds));
  return { categoryId: input.categoryId, quadrant, confidence: 0, method: 'rule-based', warnings: [] };
}

/** What the SimpleLLM classifier must answer. */
export const KraljicModelAnswer = z.object({ quadrant: KraljicQuadrant, confidence: Score });

/**
 * The confidence rule around a model answer: a schema-valid answer is used (flagged below
 * 0.8 confidence, never blocked); a schema-invalid one falls back to the rule with
 * confidence 0.0, so a negotiation is never blocked at this node.
 */
export function resolveKraljicAnswer(input: KraljicInput, answer: unknown): KraljicClassification {
  const parsed = KraljicModelAnswer.safeParse(answer);
  if (!parsed.success) {
    const fallback = classifyKraljic(input);
    return {
      ...fallback,
      warnings: [`model answer failed the schema (${parsed.error.issues[0]?.message ?? 'invalid'}); rule-based fallback`],
    };
  }
  const { quadrant, confidence } = parsed.data;
  const warnings = confidence < KRALJIC_MIN_CONFIDENCE ? [`low confidence ${confidence} < ${KRALJIC_MIN_CONFIDENCE}`] : [];
  return { categoryId: input.categoryId, quadrant, confidence, method: 'model', warnings };
}
