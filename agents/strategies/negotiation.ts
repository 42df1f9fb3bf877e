import { z } from 'zod';

/**
 * The decisions of the four node-4 strategy agents (seed 000: 4a spot bidding, 4b leverage
 * auction, 4c bottleneck negotiation, 4d strategic partnership) as pure functions. The agents
 * gather the facts through their governed tools and decide with these; an eval suite runs the
 * same functions over recorded facts (the `strategy` target), so what is graded is what runs.
 */

const Cents = z.number().int().positive();
const Unit = z.number().min(0).max(1);

// ---- 4a spot bidding ------------------------------------------------------------------------

/** Seed 000: a spot round goes to at most 200 suppliers (solicit_spot_bids takes no more). */
export const MAX_SPOT_SUPPLIERS = 200;
/** Spot bids close well inside the seed's 24 h. */
export const SPOT_DEADLINE_HOURS = 12;

export const SpotRoundInput = z.strictObject({
  budgetCents: Cents,
  limits: z.strictObject({ maxSpotBidCents: Cents, maxSpotDeadlineHours: z.number().int().positive() }),
  /** The eligible pool in the order the delivery gate left it. */
  eligible: z.array(z.string().min(1)).min(1),
});
export type SpotRoundInput = z.infer<typeof SpotRoundInput>;

export interface SpotRoundPlan {
  supplierIds: string[];
  solicited: number;
  ceilingCents: number;
  deadlineHours: number;
}

/** One sealed round: the first 200 eligible suppliers, under the budget capped by the tenant's spot limit. */
export function planSpotRound(input: SpotRoundInput): SpotRoundPlan {
  const supplierIds = [...new Set(input.eligible)].slice(0, MAX_SPOT_SUPPLIERS);
  return {
    supplierIds,
    solicited: supplierIds.length,
    ceilingCents: Math.min(input.budgetCents, input.limits.maxSpotBidCents),
    deadlineHours: Math.min(SPOT_DEADLINE_HOURS, input.limits.maxSpotDeadlineHours),
  };
}

// ---- 4b leverage auction --------------------------------------------------------------------

/** Each round's reserve is this much below the best total so far. */
export const AUCTION_ROUND_STEP = 0.02;

export const AuctionState = z.strictObject({
  budgetCents: Cents,
  /** The fewer of the agent's configured rounds and the tenant's limit. */
  maxRounds: z.number().int().positive(),
  convergencePct: z.number().min(0).max(100),
  /** The lowest total of every round opened so far, in order; null for a round that drew no bid. */
  bestTotalByRound: z.array(Cents.nullable()),
});
export type AuctionState = z.infer<typeof AuctionState>;

export type AuctionStep =
  | { action: 'open'; round: number; reserveCents: number; stop: null; requiresAttention: false }
  | { action: 'stop'; round: null; reserveCents: null; stop: 'no_bids' | 'max_rounds' | 'converged'; requiresAttention: boolean };

/**
 * What the auction does next: round 1 at the budget, each next round a little below the best
 * total so far; stop when the tenant's rounds are used up, when the last round drew no bid, or
 * when the last round improved on the one before by less than `convergencePct` percent. A stop
 * on a round without bids sends the negotiation to attention (the agent's bids are that round's).
 */
export function nextAuctionStep(s: AuctionState): AuctionStep {
  const history = s.bestTotalByRound;
  const stop = (why: 'no_bids' | 'max_rounds' | 'converged'): AuctionStep => ({
    action: 'stop',
    round: null,
    reserveCents: null,
    stop: why,
    requiresAttention: why === 'no_bids',
  });
  if (history.length > 0 && history.at(-1) === null) return stop('no_bids');
  if (history.length >= s.maxRounds) return stop('max_rounds');
  const [previous, last] = [history.at(-2), history.at(-1)];
  if (typeof previous === 'number' && typeof last === 'number' && ((previous - last) / previous) * 100 < s.convergencePct)
    return stop('converged');
  const seen = history.filter((b): b is number => b !== null);
  const reserveCents = seen.length ? Math.floor(Math.min(...seen) * (1 - AUCTION_ROUND_STEP)) : s.budgetCents;
  return { action: 'open', round: history.length + 1, reserveCents, stop: null, requiresAttention: false };
}

// ---- 4c bottleneck negotiation --------------------------------------------------------------

/** Offers within this factor of the best TCO go on to evaluation. */
export const TCO_BAND = 1.25;

export const Offer = z.object({
  bidId: z.string().min(1),
  supplierId: z.string().min(1),
  priceCents: Cents,
  deliveryDays: z.number().int().positive(),
  riskScore: Unit,
});
export type Offer = z.infer<typeof Offer>;

/** Total cost of ownership: the price loaded by supply risk (half the price per unit of risk) and lead-time holding cost. */
export function totalCostOfOwnership(b: Pick<Offer, 'priceCents' | 'riskScore' | 'deliveryDays'>): number {
  return Math.round(b.priceCents * (1 + 0.5 * b.riskScore + 0.002 * b.deliveryDays));
}

export interface TcoSelection<B> {
  /** Best TCO first, ties by bid id. */
  ranked: B[];
  /** The offers within 25% of the best TCO. */
  kept: B[];
  /** The offer terms are proposed to, null without offers. */
  best: B | null;
}

/** Secure supply rather than squeeze price: rank by TCO (as compute_tco answered it), terms to the best. */
export function selectByTco<B extends { bidId: string }>(
  offers: readonly B[],
  tcoCents: Readonly<Record<string, number>>,
): TcoSelection<B> {
  const tco = (b: B) => tcoCents[b.bidId]!;
  const ranked = [...offers].sort((a, b) => tco(a) - tco(b) || a.bidId.localeCompare(b.bidId));
  const best = ranked[0] ?? null;
  return { ranked, kept: best ? ranked.filter((b) => tco(b) <= tco(best) * TCO_BAND) : [], best };
}

export const BottleneckInput = z.strictObject({ offers: z.array(Offer) });

// ---- 4d strategic partnership ---------------------------------------------------------------

/** Proposals scoring below this partnership value are dropped unless none clears it. */
export const PARTNERSHIP_BAR = 0.5;

export const Proposal = z.object({
  bidId: z.string().min(1),
  supplierId: z.string().min(1),
  priceCents: Cents,
  qualityScore: Unit,
  /** From the supplier's profile (get_supplier_profile). */
  relationshipScore: Unit,
  innovationScore: Unit,
});
export type Proposal = z.infer<typeof Proposal>;

export interface PartnerSelection<P> {
  scores: Record<string, number>;
  /** The proposals that clear the bar, best first (all of them, best first, when none does). */
  shortlist: P[];
  qualified: number;
  best: P | null;
}

/**
 * Partnership value: relationship and innovation record (0.4 each) and quality (0.2); terms to
 * the best partner. Of two partners of equal value the cheaper proposal wins (then the bid id).
 */
export function rankPartners<P extends Proposal>(proposals: readonly P[]): PartnerSelection<P> {
  const scores: Record<string, number> = {};
  for (const p of proposals)
    scores[p.bidId] = Math.round((0.4 * p.relationshipScore + 0.4 * p.innovationScore + 0.2 * p.qualityScore) * 1e4) / 1e4;
  const ranked = [...proposals].sort(
    (a, b) => scores[b.bidId]! - scores[a.bidId]! || a.priceCents - b.priceCents || a.bidId.localeCompare(b.bidId),
  );
  const qualified = ranked.filter((p) => scores[p.bidId]! >= PARTNERSHIP_BAR);
  const shortlist = qualified.length ? qualified : ranked;
  return { scores, shortlist, qualified: qualified.length, best: shortlist[0] ?? null };
}

export const StrategicInput = z.strictObject({ proposals: z.array(Proposal) });

// ---- compliance review ----------------------------------------------------------------------

/** Why a negotiation needs attention (seed 000's REQUIRES_ATTENTION triggers). */
export const AttentionTrigger = z.enum(['no_bids', 'no_feasible_bid', 'approval_timeout', 'tool_refused']);
export type AttentionTrigger = z.infer<typeof AttentionTrigger>;
export const ComplianceSeverity = z.enum(['info', 'minor', 'major', 'critical']);
export type ComplianceSeverity = z.infer<typeof ComplianceSeverity>;

/** An award that timed out unapproved or a refused tool call is a governance event; a dry market an operational one. */
const SEVERITY: Record<AttentionTrigger, ComplianceSeverity> = {
  approval_timeout: 'major',
  tool_refused: 'major',
  no_feasible_bid: 'minor',
  no_bids: 'info',
};

export function complianceSeverity(trigger: AttentionTrigger): ComplianceSeverity {
  return SEVERITY[trigger];
}

export const ComplianceCase = z.strictObject({ trigger: AttentionTrigger, details: z.record(z.string(), z.unknown()).default({}) });
