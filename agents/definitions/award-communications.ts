import { z } from 'zod';
import { ModelAnswerError, type AgentContext, type AgentDefinition } from '../agent.js';
import { entityRef } from '../procurement.js';
import { issueAwards, type AwardResult, type PurchaseOrder } from '../strategies/index.js';
import { allowedCalls, negotiationFacts, SUMMARY_FORMAT, SummaryAnswer } from './model-tasks.js';
import { rulesSummary } from './rationale.js';
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

type AwardRequest = z.infer<typeof AwardRequest>;

/** The award as the rules draw it up from state: the purchase order(s) of the winning bid and a letter to every bidder. */
async function planAward(input: AwardRequest, ctx: AgentContext): Promise<AwardResult> {
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
  return issueAwards({
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
}

const Issued = z.object({ purchaseOrderId: z.string() });

/**
 * DAG node 7: one purchase order per awarded supplier (lines grouped by supplier) and an award
 * or regret message to every bidder, each a governed tool call. A purchase order above the
 * tenant's spend threshold is allowed only with a verified approver (node 6's approval); a
 * refusal throws ToolDeniedError and the orchestrator routes the negotiation to a human.
 */
export const awardCommunications: AgentDefinition<AwardRequest, AwardOutput> = {
  name: 'award-communications',
  input: AwardRequest,
  model: {
    instructions:
      'Issue the purchase order for the awarded bid (issue_purchase_order, at the bid total) and send an award message to its supplier and a regret message to every other bidder (send_supplier_notification).',
    answerFormat: SUMMARY_FORMAT,
    answer: SummaryAnswer,
    prompt: (input, ctx) =>
      negotiationFacts(ctx, input.negotiationId, { awardedBidId: input.bidId, buyerName: input.buyerName, currency: input.currency }),
    /** The purchase order must be the awarded bid's; which letters went out is read from the calls the gateway allowed. */
    async settle(input, ctx, loop) {
      const issued = allowedCalls(loop, 'issue_purchase_order');
      const other = issued.find((c) => (c.input as { bidId?: unknown }).bidId !== input.bidId);
      if (other)
        throw new ModelAnswerError(
          `a purchase order was issued for ${JSON.stringify((other.input as { bidId?: unknown }).bidId)}, not the awarded bid ${input.bidId}`,
        );
      if (issued.length === 0) throw new ModelAnswerError(`no purchase order was issued for the awarded bid ${input.bidId}`);
      const plan = await planAward(input, ctx);
      const ids = issued.map((c) => parseAnswer(Issued, 'issue_purchase_order', c.result.value).purchaseOrderId);
      const purchaseOrders = plan.purchaseOrders.map((po, i) => ({ ...po, purchaseOrderId: ids[i] ?? ids[0]! }));
      const { summary } = loop.answer as z.infer<typeof SummaryAnswer>;
      const notified = allowedCalls(loop, 'send_supplier_notification').length;
      return { output: { purchaseOrders, notified, note: summary }, producedBy: { model: loop.modelId } };
    },
  },
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const award = await planAward(input, ctx);
    const purchaseOrders: Array<PurchaseOrder & { purchaseOrderId: string }> = [];
    for (const po of award.purchaseOrders) {
      const answer = await ctx.tools.call('issue_purchase_order', { bidId: input.bidId, amountCents: po.totalCents });
      const issued = parseAnswer(Issued, 'issue_purchase_order', answer);
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
    const why = rulesSummary(`issued ${purchaseOrders.length} purchase order(s), notified ${award.communications.length} supplier(s)`);
    return { output: { purchaseOrders, notified: award.communications.length, note: why.text }, producedBy: why.producedBy };
  },
};
