import { QUADRANT_CODE, type KraljicQuadrant, type NegotiationView, type ProcurementLedger, type Supplier } from '../agents/index.js';
import type { SupplierDirectory } from './orchestrator.js';
import type { RunnerStore } from './runner-store.js';

const quadrantOf = (c: NegotiationView['classification']): NegotiationView['quadrant'] => (c ? QUADRANT_CODE[c.quadrant] : 'UNCLASSIFIED');

/**
 * The procurement tools' view of the orchestrator's state: they read negotiations (with the
 * eligible pool the router wrote) and write bids, rounds, classifications and documents, all
 * under the caller's tenant. Reads are synchronous, from the store's local view (the gateway
 * resolves entities through them); writes go through the store, conditional where it is shared.
 */
export class OrchestratorLedger implements ProcurementLedger {
  constructor(
    private readonly store: RunnerStore,
    private readonly directory: SupplierDirectory,
  ) {}

  negotiation(tenantId: string, negotiationId: string): NegotiationView | undefined {
    const state = this.store.local.get(tenantId, negotiationId);
    const cols = this.store.local.toolColumns(tenantId, negotiationId);
    if (!state || !cols) return undefined;
    const r = state.requisition;
    return {
      tenantId,
      negotiationId,
      status: state.status,
      quadrant: quadrantOf(cols.classification),
      budgetCents: r.budgetCents,
      round: cols.round,
      deliveryRegion: r.deliveryRegion,
      category: r.category,
      lines: r.lines,
      eligible: state.route?.eligible ?? [],
      classification: cols.classification,
    };
  }

  /** The fields of a negotiation its gateway entity holds, without reading the whole state. */
  negotiationFacts(
    tenantId: string,
    negotiationId: string,
  ): Pick<NegotiationView, 'status' | 'quadrant' | 'budgetCents' | 'round' | 'deliveryRegion'> | undefined {
    const f = this.store.local.entityFacts(tenantId, negotiationId);
    if (!f) return undefined;
    return {
      status: f.status,
      quadrant: quadrantOf(f.classification),
      budgetCents: f.budgetCents,
      round: f.round,
      deliveryRegion: f.deliveryRegion,
    };
  }

  supplier(tenantId: string, supplierId: string): Supplier | undefined {
    return this.directory.approvedSuppliers(tenantId).find((s) => s.supplierId === supplierId);
  }

  recordClassification(
    tenantId: string,
    negotiationId: string,
    c: { quadrant: KraljicQuadrant; confidenceBp: number; rationale: string },
  ): Promise<void> | void {
    return this.store.setClassification(tenantId, negotiationId, c);
  }

  openRound(tenantId: string, negotiationId: string, round: number): Promise<void> | void {
    return this.store.openRound(tenantId, negotiationId, round);
  }

  findBid: ProcurementLedger['findBid'] = (t, k) => this.store.local.findBid(t, k);
  recordBid: ProcurementLedger['recordBid'] = (t, n, k, b) => this.store.recordBid(t, n, k, b);
  bid: ProcurementLedger['bid'] = (t, id) => this.store.local.bid(t, id);
  bidsOf: ProcurementLedger['bidsOf'] = (t, n, r) => this.store.local.bidsOf(t, n, r);
  recordDocument: ProcurementLedger['recordDocument'] = (t, n, k, kind, body) => this.store.recordDocument(t, n, k, kind, body);
}
