import { z } from 'zod';

/**
 * Bid evaluation (DAG node 5): hard constraints exclude bids, the rest are scored by a
 * weighted sum of normalised criteria and ranked; the award goes to the top-ranked bid.
 */
const Unit = z.number().min(0).max(1);

export const Bid = z.object({
  bidId: z.string().min(1),
  supplierId: z.string().min(1),
  priceCents: z.number().int().positive(),
  deliveryDays: z.number().int().positive(),
  /** Supplier quality rating, higher is better. */
  qualityScore: Unit,
  /** Supplier risk rating, lower is better. */
  riskScore: Unit,
  certifications: z.array(z.string()).default([]),
});
export type Bid = z.infer<typeof Bid>;

export const BidConstraints = z.object({
  maxPriceCents: z.number().int().positive().optional(),
  maxDeliveryDays: z.number().int().positive().optional(),
  minQualityScore: Unit.optional(),
  maxRiskScore: Unit.optional(),
  requiredCertifications: z.array(z.string()).default([]),
});
export type BidConstraints = z.infer<typeof BidConstraints>;

export const BidWeights = z
  .object({ price: Unit, delivery: Unit, quality: Unit, risk: Unit })
  .refine((w) => Math.abs(w.price + w.delivery + w.quality + w.risk - 1) < 1e-9, 'weights must sum to 1');
export type BidWeights = z.infer<typeof BidWeights>;

export const BidEvaluationInput = z.object({
  negotiationId: z.string().min(1),
  constraints: BidConstraints,
  weights: BidWeights,
  bids: z.array(Bid),
});
export type BidEvaluationInput = z.input<typeof BidEvaluationInput>;

export interface BidEvaluation {
  negotiationId: string;
  /** Feasible bid ids, best first. */
  ranking: string[];
  /** Weighted score per feasible bid, rounded to 6 decimals. */
  scores: Record<string, number>;
  excluded: Array<{ bidId: string; reasons: string[] }>;
  /** The winning bid, or null when no bid meets the constraints. */
  award: { bidId: string; supplierId: string; priceCents: number } | null;
}

function violations(bid: Bid, c: BidConstraints): string[] {
  const out: string[] = [];
  if (c.maxPriceCents !== undefined && bid.priceCents > c.maxPriceCents) out.push('price above maximum');
  if (c.maxDeliveryDays !== undefined && bid.deliveryDays > c.maxDeliveryDays) out.push('delivery too slow');
  if (c.minQualityScore !== undefined && bid.qualityScore < c.minQualityScore) out.push('quality below minimum');
  if (c.maxRiskScore !== undefined && bid.riskScore > c.maxRiskScore) out.push('risk above maximum');
  const missing = c.requiredCertifications.filter((cert) => !bid.certifications.includes(cert));
  if (missing.length) out.push(`missing certifications: ${missing.join(', ')}`);
  return out;
}

/**
 * Price and delivery are normalised as best/own (1 for the cheapest / fastest feasible bid),
 * quality as is, risk as 1 - risk. Ties go to the lower price, then the lower bid id, so the
 * ranking is total and reproducible.
 */
export function evaluateBids(raw: BidEvaluationInput): BidEvaluation {
  const input = BidEvaluationInput.parse(raw);
  const excluded: BidEvaluation['excluded'] = [];
  const feasible: Bid[] = [];
  for (const bid of input.bids) {
    const reasons = violations(bid, input.constraints);
    if (reasons.length) excluded.push({ bidId: bid.bidId, reasons });
    else feasible.push(bid);
  }
  const bestPrice = Math.min(...feasible.map((b) => b.priceCents));
  const bestDays = Math.min(...feasible.map((b) => b.deliveryDays));
  const w = input.weights;
  const scores: Record<string, number> = {};
  for (const b of feasible) {
    const s =
      w.price * (bestPrice / b.priceCents) +
      w.delivery * (bestDays / b.deliveryDays) +
      w.quality * b.qualityScore +
      w.risk * (1 - b.riskScore);
    scores[b.bidId] = Math.round(s * 1e6) / 1e6;
  }
  const ranked = [...feasible].sort(
    (a, b) => scores[b.bidId]! - scores[a.bidId]! || a.priceCents - b.priceCents || a.bidId.localeCompare(b.bidId),
  );
  const top = ranked[0];
  return {
    negotiationId: input.negotiationId,
    ranking: ranked.map((b) => b.bidId),
    scores,
    excluded,
    award: top ? { bidId: top.bidId, supplierId: top.supplierId, priceCents: top.priceCents } : null,
  };
}
