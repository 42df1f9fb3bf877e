import type { AgentDefinition } from '../agent.js';
import { QuoteRound, type QuotedBid } from '../procurement.js';
import { strategyTask } from './model-tasks.js';
import { rulesSummary } from './rationale.js';
import {
  flagZeroBids,
  lowestTotal,
  NegotiationAnswer,
  negotiationRef,
  parseAnswer,
  readBids,
  StrategyInput,
  type StrategyOutput,
} from './strategy-input.js';

/** Each round's reserve is this much below the best total so far. */
const ROUND_STEP = 0.02;

/**
 * DAG node 4b (Leverage, DefaultLLM): a reverse auction of up to the tenant's maximum rounds
 * (seed: 5) that stops when the best total improves by less than `auction.convergencePct`.
 * It resumes where the negotiation stands: rounds already opened are read back, not reopened.
 */
export const leverageAuction: AgentDefinition<StrategyInput, StrategyOutput> = {
  name: 'leverage-auction',
  input: StrategyInput,
  model: strategyTask(
    'Run a reverse auction: open rounds with open_auction_round (round 1 at the budget, each next round a little below the best total so far), stopping after the tenant limit maxAuctionRounds or when the best total stops improving by the convergence percentage.',
    (ctx) => ({ auction: ctx.config.auction }),
  ),
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const negotiation = parseAnswer(NegotiationAnswer, 'get_negotiation', await ctx.tools.call('get_negotiation', { negotiationId: ref }));
    const maxRounds = Math.min(ctx.config.auction.maxRounds, ctx.config.limits.maxAuctionRounds);
    const bestByRound: number[] = [];
    let current: QuoteRound = { bids: [], unreachable: [] };
    for (let r = 1; r <= negotiation.round; r++) {
      current = await readBids(ctx, ref, r);
      const best = lowestTotal(current.bids);
      if (best !== undefined) bestByRound.push(best);
    }
    let converged = false;
    for (let round = negotiation.round + 1; round <= maxRounds && !converged; round++) {
      const previous = bestByRound.at(-1);
      const reserve = previous === undefined ? negotiation.budgetCents : Math.floor(previous * (1 - ROUND_STEP));
      current = parseAnswer(
        QuoteRound,
        'open_auction_round',
        await ctx.tools.call('open_auction_round', { negotiationId: ref, round, amountCents: reserve }),
      );
      const best = lowestTotal(current.bids);
      if (best === undefined) break;
      converged = previous !== undefined && ((previous - best) / previous) * 100 < ctx.config.auction.convergencePct;
      bestByRound.push(best);
    }
    const bids: QuotedBid[] = current.bids;
    if (bids.length === 0) await flagZeroBids(ctx, ref, `auction round ${bestByRound.length + 1} drew no bid`);
    const facts = { rounds: bestByRound.length, bestTotalByRound: bestByRound, converged, bidders: bids.length };
    const why = rulesSummary(
      `auction: ${bestByRound.length} round(s), best totals ${bestByRound.join(' -> ')}${converged ? ', converged' : ''}`,
    );
    return {
      output: { bids, unreachable: current.unreachable, rounds: bestByRound.length, rationale: why.text, analysis: facts },
      producedBy: why.producedBy,
    };
  },
};
