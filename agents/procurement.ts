import { z } from 'zod';
import { sha256Hex } from '../signing/index.js';
import { Bid, BidConstraints } from './strategies/index.js';

/** The procurement vocabulary shared by agents, tools and the orchestrator. */

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'ids are letters, digits, . _ - (at most 128)');
const Unit = z.number().min(0).max(1);

export const Supplier = z.strictObject({
  supplierId: Id,
  name: z.string().min(1),
  /** Delivery regions served (the delivery gate's address filter). */
  regions: z.array(z.string().min(1)).min(1),
  deliveryDays: z.number().int().positive(),
  qualityScore: Unit,
  riskScore: Unit,
  relationshipScore: Unit.default(0.5),
  innovationScore: Unit.default(0.5),
  certifications: z.array(z.string()).default([]),
  /** Blocked by compliance: never contacted or awarded, even when on the pool. */
  blocked: z.boolean().default(false),
});
export type Supplier = z.infer<typeof Supplier>;

export const RequisitionLine = z.strictObject({
  lineId: Id,
  description: z.string().min(1),
  quantity: z.number().int().positive(),
  /** The buyer's estimate; suppliers quote around it. */
  targetUnitPriceCents: z.number().int().positive(),
});
export type RequisitionLine = z.infer<typeof RequisitionLine>;

/** A Purchase Requisition: what enters DAG node 1. */
export const Requisition = z.strictObject({
  negotiationId: Id,
  buyerName: z.string().min(1),
  requestedBy: z.string().min(1),
  category: z.strictObject({ categoryId: Id, name: z.string().min(1), profitImpact: Unit, supplyRisk: Unit }),
  lines: z.array(RequisitionLine).min(1),
  deliveryRegion: z.string().min(1),
  /** Every priced write of the negotiation stays within it (procurement.within-budget). */
  budgetCents: z.number().int().positive(),
  maxDeliveryDays: z.number().int().positive(),
  constraints: BidConstraints.optional(),
  currency: z.string().length(3).default('USD'),
});
export type Requisition = z.infer<typeof Requisition>;

/** Negotiation status as the Procurement schema spells it (`Negotiation.status`). */
export type NegotiationStatusCode =
  'DRAFT' | 'ACTIVE' | 'AWAITING_APPROVAL' | 'AWARDED' | 'CANCELLED' | 'TERMINATED' | 'REQUIRES_ATTENTION';

/** The quadrant codes of the Procurement schema (`Negotiation.quadrant`, `record_classification`). */
export const QUADRANT_CODE = {
  'Non-Critical': 'NON_CRITICAL',
  Leverage: 'LEVERAGE',
  Bottleneck: 'BOTTLENECK',
  Strategic: 'STRATEGIC',
} as const;
export type QuadrantCode = (typeof QUADRANT_CODE)[keyof typeof QUADRANT_CODE] | 'UNCLASSIFIED';

/**
 * Entity ids in tool arguments are tenant-qualified (`acme/n-001`, `acme/n-001/s-01/r1`), so a
 * resource names its tenant and the gateway resolves it without guessing: an id of another
 * tenant resolves under that tenant, and base.tenant-isolation refuses it.
 */
export function entityRef(tenantId: string, ...parts: string[]): string {
  return [tenantId, ...parts].join('/');
}

export function parseEntityRef(ref: string): { tenantId: string; parts: string[] } | undefined {
  const [tenantId, ...parts] = ref.split('/');
  return tenantId && parts.length > 0 && parts.every((p) => p.length > 0) ? { tenantId, parts } : undefined;
}

/** A bid's id: tenant, negotiation, supplier and round (unique per tenant by construction). */
export function bidRef(tenantId: string, negotiationId: string, supplierId: string, round: number): string {
  return entityRef(tenantId, negotiationId, supplierId, `r${round}`);
}

/**
 * The deterministic idempotency key of a write (seed 000, PRD-001 §5.1.8): the same
 * negotiation, supplier, action and round always give the same key, so a resumed node that
 * repeats a write is recognised instead of duplicated.
 */
export function idempotencyKey(negotiationId: string, supplierId: string, action: string, round: number): string {
  return sha256Hex(`${negotiationId}\u0000${supplierId}\u0000${action}\u0000${round}`).slice(0, 32);
}

/** A bid as suppliers quote it: the evaluation fields plus the round and per-line unit prices. */
export const QuotedBid = Bid.extend({
  round: z.number().int().positive(),
  lines: z.array(z.strictObject({ lineId: z.string().min(1), unitPriceCents: z.number().int().positive() })).min(1),
});
export type QuotedBid = z.infer<typeof QuotedBid>;

/** What every quote-gathering tool answers: the bids received and the suppliers that failed. */
export const QuoteRound = z.object({
  bids: z.array(QuotedBid),
  unreachable: z.array(z.object({ supplierId: z.string(), reason: z.string() })).default([]),
});
export type QuoteRound = z.infer<typeof QuoteRound>;
