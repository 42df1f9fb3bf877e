import type { KraljicQuadrant } from '../strategies/index.js';
import type { NegotiationStatusCode, QuadrantCode, QuotedBid, Requisition, Supplier } from '../procurement.js';

/** What the procurement tools may know of a negotiation (read from the orchestrator's state). */
export interface NegotiationView {
  tenantId: string;
  negotiationId: string;
  status: NegotiationStatusCode;
  quadrant: QuadrantCode;
  budgetCents: number;
  /** Current round: 0 before the first solicitation. */
  round: number;
  deliveryRegion: string;
  category: Requisition['category'];
  lines: Requisition['lines'];
  /** The pool after the delivery gate (empty before node 3). */
  eligible: Supplier[];
  classification: { quadrant: KraljicQuadrant; confidenceBp: number; rationale: string } | null;
}

export type LedgerDocumentKind =
  'classification' | 'evaluation' | 'terms' | 'purchase-order' | 'notification' | 'attention-flag' | 'compliance-finding';

/**
 * Where the procurement tools read negotiation state and keep what they write. The
 * orchestrator's store implements it (SQLite, every key tenant-first); each write is keyed by a
 * deterministic idempotency key and a repeated key returns the first write instead of adding
 * a second.
 */
export interface ProcurementLedger {
  negotiation(tenantId: string, negotiationId: string): NegotiationView | undefined;
  supplier(tenantId: string, supplierId: string): Supplier | undefined;
  recordClassification(
    tenantId: string,
    negotiationId: string,
    c: { quadrant: KraljicQuadrant; confidenceBp: number; rationale: string },
  ): Promise<void> | void;
  /** Moves the negotiation's current round forward (never back). */
  openRound(tenantId: string, negotiationId: string, round: number): Promise<void> | void;
  findBid(tenantId: string, key: string): QuotedBid | undefined;
  /** Records a bid; `duplicate` when the key was already there (the stored bid is returned). */
  recordBid(
    tenantId: string,
    negotiationId: string,
    key: string,
    bid: QuotedBid,
  ): Promise<{ bid: QuotedBid; duplicate: boolean }> | { bid: QuotedBid; duplicate: boolean };
  bid(tenantId: string, bidId: string): (QuotedBid & { negotiationId: string }) | undefined;
  bidsOf(tenantId: string, negotiationId: string, round?: number): QuotedBid[];
  recordDocument(
    tenantId: string,
    negotiationId: string,
    key: string,
    kind: LedgerDocumentKind,
    body: Record<string, unknown>,
  ): Promise<{ id: string; duplicate: boolean }> | { id: string; duplicate: boolean };
}
