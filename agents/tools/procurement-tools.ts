import { z } from 'zod';
import { errorMessage } from '../../common/index.js';
import { tool, type ToolTable } from '../mcp-tool-server.js';
import { bidRef, entityRef, idempotencyKey, parseEntityRef, QUADRANT_CODE, QuotedBid, type QuoteRound } from '../procurement.js';
import { KraljicQuadrant, MAX_SPOT_SUPPLIERS, totalCostOfOwnership } from '../strategies/index.js';
import type { NegotiationView, ProcurementLedger } from './ledger.js';
import type { SupplierClient } from './supplier-client.js';

/**
 * The procurement tools behind the gateway (its upstream MCP server), named as in the domain
 * pack's tools.yaml. They run only after the gateway allowed the call, with `tenant_id`
 * rewritten from the caller's validated claim; entity ids are tenant-qualified and each is
 * checked against that tenant once more here (a second, independent isolation layer).
 */
const tenantArg = { tenant_id: z.string().min(1) };

function local(tenantId: string, ref: string, what: string): string {
  const parsed = parseEntityRef(ref);
  if (!parsed || parsed.tenantId !== tenantId) throw new Error(`${what} '${ref}' is not an id of tenant '${tenantId}'`);
  return parsed.parts[0]!;
}

const Declined = z.object({ declined: z.literal(true) });

export interface QuoteFanOut {
  view: NegotiationView;
  action: string;
  round: number;
  supplierIds: string[];
  targetTotalCents?: number;
  /** Bids above it are not accepted (the solicitation's price ceiling). */
  ceilingCents?: number;
}

/**
 * One quote round to many suppliers at once: the fan-out lives here, inside the tool. A bid
 * already in the ledger under its idempotency key is reused (a resumed node does not ask
 * twice); a supplier that fails, times out or has an open breaker is reported unreachable and
 * the round goes on without it.
 */
export async function fanOutQuotes(req: QuoteFanOut, suppliers: SupplierClient, ledger: ProcurementLedger): Promise<QuoteRound> {
  const { tenantId, negotiationId } = req.view;
  const bids: QuoteRound['bids'] = [];
  const unreachable: QuoteRound['unreachable'] = [];
  await Promise.all(
    [...new Set(req.supplierIds)].map(async (supplierId) => {
      const key = idempotencyKey(negotiationId, supplierId, req.action, req.round);
      const known = ledger.findBid(tenantId, key);
      if (known) return void bids.push(known);
      try {
        const answer = await suppliers.quote(tenantId, {
          supplierId,
          negotiationId,
          idempotencyKey: key,
          round: req.round,
          lines: req.view.lines,
          ...(req.targetTotalCents !== undefined ? { targetTotalCents: req.targetTotalCents } : {}),
        });
        if (Declined.safeParse(answer).success) return void unreachable.push({ supplierId, reason: 'declined to bid' });
        const quoted = QuotedBid.parse(answer);
        if (quoted.supplierId !== supplierId) throw new Error(`answered for supplier ${quoted.supplierId}`);
        if (req.ceilingCents !== undefined && quoted.priceCents > req.ceilingCents)
          return void unreachable.push({ supplierId, reason: `bid above the ceiling` });
        const bid = { ...quoted, bidId: bidRef(tenantId, negotiationId, supplierId, req.round), round: req.round };
        bids.push((await ledger.recordBid(tenantId, negotiationId, key, bid)).bid);
      } catch (err) {
        unreachable.push({ supplierId, reason: errorMessage(err) });
      }
    }),
  );
  bids.sort((a, b) => a.supplierId.localeCompare(b.supplierId));
  unreachable.sort((a, b) => a.supplierId.localeCompare(b.supplierId));
  return { bids, unreachable };
}

export function procurementTools(suppliers: SupplierClient, ledger: ProcurementLedger): ToolTable {
  const view = (tenantId: string, ref: string): NegotiationView => {
    const v = ledger.negotiation(tenantId, local(tenantId, ref, 'negotiationId'));
    if (!v) throw new Error(`no negotiation '${ref}'`);
    return v;
  };
  const eligibleIds = (v: NegotiationView) => v.eligible.map((s) => s.supplierId);
  const bidOf = (tenantId: string, ref: string) => {
    const b = ledger.bid(tenantId, ref);
    if (!b) throw new Error(`no bid '${ref}'`);
    return b;
  };
  type Kind = Parameters<ProcurementLedger['recordDocument']>[3];
  const doc = async (kind: Kind, tenantId: string, negotiationId: string, key: string, body: Record<string, unknown>) =>
    ledger.recordDocument(tenantId, negotiationId, key, kind, body);
  /** A document about a bid (terms, evaluation): one per bid and kind, the arguments are the body. */
  const bidDoc = (kind: Kind, a: { tenant_id: string; bidId: string } & Record<string, unknown>) => {
    const b = bidOf(a.tenant_id, a.bidId);
    const { tenant_id: _t, ...body } = a;
    return doc(kind, a.tenant_id, b.negotiationId, idempotencyKey(b.negotiationId, b.supplierId, kind, b.round), body);
  };
  /** A document about the negotiation as a whole, one per action. */
  const negotiationDoc = (kind: Kind, a: { tenant_id: string; negotiationId: string }, action: string, body: Record<string, unknown>) => {
    const negotiationId = local(a.tenant_id, a.negotiationId, 'negotiationId');
    return doc(kind, a.tenant_id, negotiationId, idempotencyKey(negotiationId, '*', action, 1), body);
  };

  const NegotiationArgs = z.object({ ...tenantArg, negotiationId: z.string() });
  const CategoryArgs = z.object({ ...tenantArg, categoryId: z.string() });
  const BidArgs = z.object({ ...tenantArg, bidId: z.string() });

  return {
    get_negotiation: tool({
      description: 'The negotiation record.',
      args: NegotiationArgs,
      run: async (a) => {
        const { eligible: _eligible, ...v } = view(a.tenant_id, a.negotiationId);
        return { ...v, negotiationId: entityRef(a.tenant_id, v.negotiationId) };
      },
    }),
    get_category_spend: tool({
      description: 'Spend profile of the negotiation category (profit impact).',
      args: CategoryArgs,
      run: async (a) => {
        const categoryId = local(a.tenant_id, a.categoryId, 'categoryId');
        return { categoryId: a.categoryId, source: `requisitions of ${a.tenant_id} for ${categoryId}` };
      },
    }),
    list_eligible_suppliers: tool({
      description: 'Suppliers of the pool that passed the delivery gate.',
      args: NegotiationArgs,
      run: async (a) => ({
        suppliers: view(a.tenant_id, a.negotiationId).eligible.map((s) => ({ ...s, supplierId: entityRef(a.tenant_id, s.supplierId) })),
      }),
    }),
    get_supplier_profile: tool({
      description: "A supplier's profile.",
      args: z.object({ ...tenantArg, supplierId: z.string() }),
      run: async (a) => {
        const s = ledger.supplier(a.tenant_id, local(a.tenant_id, a.supplierId, 'supplierId'));
        if (!s) throw new Error(`no supplier '${a.supplierId}'`);
        return { ...s, supplierId: a.supplierId };
      },
    }),
    get_bids: tool({
      description:
        'Bids of a negotiation, optionally of one round. Bottleneck and strategic offers are requested from the eligible suppliers on first read.',
      args: NegotiationArgs.extend({ round: z.number().int().optional() }),
      run: async (a) => {
        const v = view(a.tenant_id, a.negotiationId);
        const offers = v.quadrant === 'BOTTLENECK' || v.quadrant === 'STRATEGIC';
        let unreachable: QuoteRound['unreachable'] = [];
        if (offers && v.round === 0) {
          // Standing offers: suppliers of a bottleneck or strategic item answer an RFI once.
          ({ unreachable } = await fanOutQuotes({ view: v, action: 'offer', round: 1, supplierIds: eligibleIds(v) }, suppliers, ledger));
          await ledger.openRound(a.tenant_id, v.negotiationId, 1);
        }
        return { bids: ledger.bidsOf(a.tenant_id, v.negotiationId, a.round), unreachable };
      },
    }),
    compute_tco: tool({
      description: 'Total cost of ownership of a bid.',
      args: BidArgs.extend({ termMonths: z.number().int().optional() }),
      run: async (a) => {
        const b = bidOf(a.tenant_id, a.bidId);
        return { bidId: a.bidId, priceCents: b.priceCents, tcoCents: totalCostOfOwnership(b) };
      },
    }),
    record_classification: tool({
      description: 'Record the Kraljic quadrant of the negotiation.',
      args: NegotiationArgs.extend({
        quadrant: z.enum(Object.values(QUADRANT_CODE)),
        confidenceBp: z.number().int(),
        rationale: z.string().default(''),
      }),
      run: async (a) => {
        const v = view(a.tenant_id, a.negotiationId);
        const quadrant = KraljicQuadrant.options.find((q) => QUADRANT_CODE[q] === a.quadrant)!;
        await ledger.recordClassification(a.tenant_id, v.negotiationId, { quadrant, confidenceBp: a.confidenceBp, rationale: a.rationale });
        return { negotiationId: a.negotiationId, quadrant: a.quadrant };
      },
    }),
    solicit_spot_bids: tool({
      description: 'Spot-bid round to up to 200 suppliers under a price ceiling (node 4a).',
      args: NegotiationArgs.extend({
        supplierIds: z.array(z.string()).min(1).max(MAX_SPOT_SUPPLIERS),
        amountCents: z.number().int(),
        deadlineHours: z.number().int(),
      }),
      run: async (a) => {
        const v = view(a.tenant_id, a.negotiationId);
        const supplierIds = a.supplierIds.map((s) => local(a.tenant_id, s, 'supplierId'));
        const round = await fanOutQuotes(
          { view: v, action: 'spot-bid', round: 1, supplierIds, ceilingCents: a.amountCents },
          suppliers,
          ledger,
        );
        await ledger.openRound(a.tenant_id, v.negotiationId, 1);
        return round;
      },
    }),
    open_auction_round: tool({
      description: 'Open the next reverse-auction round with a reserve price and collect its bids (node 4b).',
      args: NegotiationArgs.extend({ round: z.number().int().positive(), amountCents: z.number().int() }),
      run: async (a) => {
        const v = view(a.tenant_id, a.negotiationId);
        const answer = await fanOutQuotes(
          { view: v, action: 'auction-bid', round: a.round, supplierIds: eligibleIds(v), targetTotalCents: a.amountCents },
          suppliers,
          ledger,
        );
        await ledger.openRound(a.tenant_id, v.negotiationId, a.round);
        return answer;
      },
    }),
    propose_terms: tool({
      description: "Propose contract terms on a supplier's offer.",
      args: BidArgs.extend({
        amountCents: z.number().int(),
        termMonths: z.number().int(),
        volumeUnits: z.number().int().optional(),
        leadTimeDays: z.number().int().optional(),
      }),
      run: async (a) => bidDoc('terms', a),
    }),
    record_evaluation: tool({
      description: 'Record the score and rank of a bid (node 5).',
      args: BidArgs.extend({ scoreBp: z.number().int(), rank: z.number().int(), rationale: z.string().optional() }),
      run: async (a) => bidDoc('evaluation', a),
    }),
    issue_purchase_order: tool({
      description: 'Issue a purchase order for an awarded bid (node 7).',
      args: BidArgs.extend({ amountCents: z.number().int() }),
      run: async (a) => {
        const b = bidOf(a.tenant_id, a.bidId);
        const saved = await doc(
          'purchase-order',
          a.tenant_id,
          b.negotiationId,
          idempotencyKey(b.negotiationId, b.supplierId, 'purchase-order', 1),
          { bidId: a.bidId, supplierId: b.supplierId, amountCents: a.amountCents, status: 'ISSUED' },
        );
        return { purchaseOrderId: entityRef(a.tenant_id, b.negotiationId, `po-${saved.id}`), duplicate: saved.duplicate };
      },
    }),
    send_supplier_notification: tool({
      description: 'Send an award, regret or clarification message to a supplier.',
      args: NegotiationArgs.extend({
        supplierId: z.string(),
        template: z.enum(['award', 'regret', 'clarification']),
        message: z.string().optional(),
      }),
      run: async (a) => {
        const negotiationId = local(a.tenant_id, a.negotiationId, 'negotiationId');
        const supplierId = local(a.tenant_id, a.supplierId, 'supplierId');
        return doc('notification', a.tenant_id, negotiationId, idempotencyKey(negotiationId, supplierId, `notify-${a.template}`, 1), {
          supplierId,
          template: a.template,
          message: a.message ?? '',
        });
      },
    }),
    flag_requires_attention: tool({
      description: 'Flag the negotiation for human attention.',
      args: NegotiationArgs.extend({ reason: z.string(), message: z.string().optional() }),
      run: async (a) => negotiationDoc('attention-flag', a, `flag-${a.reason}`, { reason: a.reason, message: a.message ?? '' }),
    }),
    record_compliance_finding: tool({
      description: 'Record a compliance finding on a negotiation under review.',
      args: NegotiationArgs.extend({ severity: z.string(), finding: z.string(), evidenceRef: z.string().optional() }),
      run: async (a) => {
        const saved = await negotiationDoc('compliance-finding', a, `finding-${a.severity}`, { severity: a.severity, finding: a.finding });
        return { ...saved, caseId: saved.id };
      },
    }),
  };
}
