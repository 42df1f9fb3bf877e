import { z } from 'zod';
import type { AgentDefinition } from '../agent.js';
import { entityRef } from '../procurement.js';
import { issueAwards, type PurchaseOrder } from '../strategies/index.js';
import { explain } from './rationale.js';
import { negotiationRef, parseAnswer, readBids, SupplierProfile } from './strategy-input.js';

export const AwardRequest = z.strictObject({
  negotiationId: z.string().min(1),
  /** The winning bid of node 5 (tenant-qualified id). */
  bidId: z.string().min(1),
  buyerName: z.string().min(1),
  currency: z.string().length(3),
});

export interface AwardOutput {
  purchaseOrders: Array<PurchaseOrder & { purchaseOrderId: string }>;
  notified: number;
  note: string;
}

const Line = z.object({ lineId: z.string(), description: z.string(), quantity: z.number().int().positive() });

/**
 * DAG node 7: one purchase order per awarded supplier (lines grouped by supplier) and an award
 * or regret message to every bidder, each a governed tool call. A purchase order above the
 * tenant's spend threshold is allowed only with a verified approver (node 6's approval); a
 * refusal throws ToolDeniedError and the orchestrator routes the negotiation to a human.
 */
export const awardCommunications: AgentDefinition<z.infer<typeof AwardRequest>, AwardOutput> = {
  name: 'award-communications',
  input: AwardRequest,
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const { lines } = parseAnswer(
      z.object({ lines: z.array(Line) }),
      'get_negotiation',
      await ctx.tools.call('get_negotiation', { negotiationId: ref }),
    );
    const { bids } = await readBids(ctx, ref);
    const winner = bids.find((b) => b.bidId === input.bidId);
    if (!winner) throw new Error(`bid ${input.bidId} is not a bid of negotiation ${ref}`);
    const names = new Map<string, string>();
    for (const supplierId of new Set(bids.map((b) => b.supplierId))) {
      const profile = parseAnswer(
        SupplierProfile,
        'get_supplier_profile',
        await ctx.tools.call('get_supplier_profile', { supplierId: entityRef(ctx.tenantId, supplierId) }),
      );
      names.set(supplierId, profile.name);
    }
    const award = issueAwards({
      negotiationId: input.negotiationId,
      tenantId: ctx.tenantId,
      buyerName: input.buyerName,
      currency: input.currency,
      awardedLines: lines.map((l) => ({
        ...l,
        unitPriceCents: winner.lines.find((w) => w.lineId === l.lineId)?.unitPriceCents ?? 0,
        supplierId: winner.supplierId,
        supplierName: names.get(winner.supplierId)!,
      })),
      unsuccessfulSuppliers: [...names]
        .filter(([id]) => id !== winner.supplierId)
        .map(([supplierId, supplierName]) => ({ supplierId, supplierName })),
    });
    const purchaseOrders: Array<PurchaseOrder & { purchaseOrderId: string }> = [];
    for (const po of award.purchaseOrders) {
      const answer = await ctx.tools.call('issue_purchase_order', { bidId: winner.bidId, amountCents: po.totalCents });
      const issued = parseAnswer(z.object({ purchaseOrderId: z.string() }), 'issue_purchase_order', answer);
      purchaseOrders.push({ ...po, purchaseOrderId: issued.purchaseOrderId });
    }
    for (const letter of award.communications) {
      await ctx.tools.call('send_supplier_notification', {
        negotiationId: ref,
        supplierId: entityRef(ctx.tenantId, letter.supplierId),
        template: letter.kind,
        message: letter.body,
      });
    }
    const facts = { purchaseOrders: purchaseOrders.map((p) => p.poNumber), notified: award.communications.length };
    const why = await explain(
      ctx,
      'Write a one-paragraph award note for the negotiation file.',
      facts,
      `issued ${purchaseOrders.length} purchase order(s), notified ${award.communications.length} supplier(s)`,
    );
    return { output: { purchaseOrders, notified: award.communications.length, note: why.text }, producedBy: why.producedBy };
  },
};
