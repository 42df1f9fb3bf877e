import { z } from 'zod';
import type { AgentDefinition } from '../agent.js';
import { selectByTco } from '../strategies/index.js';
import { strategyTask } from './model-tasks.js';
import { rulesSummary } from './rationale.js';
import { flagZeroBids, negotiationRef, parseAnswer, readBids, StrategyInput, type StrategyOutput } from './strategy-input.js';

const Tco = z.object({ tcoCents: z.number() });

/**
 * DAG node 4c (Bottleneck, DefaultLLM): secure supply rather than squeeze price. Offers are
 * ranked by total cost of ownership (price loaded by supply risk and lead time, from the
 * compute_tco tool); terms are proposed to the best one within the tenant's proposal term, and
 * the offers within 25% of the best TCO go to evaluation.
 */
export const bottleneckNegotiation: AgentDefinition<StrategyInput, StrategyOutput> = {
  name: 'bottleneck-negotiation',
  input: StrategyInput,
  model: strategyTask(
    'Secure supply rather than squeeze price: read the offers with get_bids, rank them by total cost of ownership (compute_tco), and propose terms (propose_terms) to the best one within the tenant limit maxProposalTermMonths.',
  ),
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const offers = await readBids(ctx, ref);
    if (offers.bids.length === 0) await flagZeroBids(ctx, ref, 'no supplier offered');
    const tco: Record<string, number> = {};
    for (const b of offers.bids)
      tco[b.bidId] = parseAnswer(Tco, 'compute_tco', await ctx.tools.call('compute_tco', { bidId: b.bidId })).tcoCents;
    const { kept: bids, best } = selectByTco(offers.bids, tco);
    if (best) {
      await ctx.tools.call('propose_terms', {
        bidId: best.bidId,
        amountCents: best.priceCents,
        termMonths: ctx.config.limits.maxProposalTermMonths,
        leadTimeDays: best.deliveryDays,
      });
    }
    const facts = { offers: offers.bids.length, kept: bids.length, tcoCents: tco, termsProposedTo: best?.supplierId ?? null };
    const why = rulesSummary(`bottleneck: ${bids.length} of ${offers.bids.length} offer(s) within 25% of the best TCO`);
    return {
      output: { bids, unreachable: offers.unreachable, rounds: 1, rationale: why.text, analysis: facts },
      producedBy: why.producedBy,
    };
  },
};
