import type { AgentDefinition } from '../agent.js';
import { QuoteRound, type QuotedBid } from '../procurement.js';
import { nextAuctionStep } from '../strategies/index.js';
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
    const { auction, limits } = ctx.config;
    const state = {
      budgetCents: negotiation.budgetCents,
      maxRounds: Math.min(auction.maxRounds, limits.maxAuctionRounds),
      convergencePct: auction.convergencePct,
    };
    const bestByRound: Array<number | null> = [];
    let current: QuoteRound = { bids: [], unreachable: [] };
    for (let r = 1; r <= negotiation.round; r++) {
      current = await readBids(ctx, ref, r);
      bestByRound.push(lowestTotal(current.bids) ?? null);
    }
    let step = nextAuctionStep({ ...state, bestTotalByRound: bestByRound });
    while (step.action === 'open') {
      current = parseAnswer(
        QuoteRound,
        'open_auction_round',
        await ctx.tools.call('open_auction_round', { negotiationId: ref, round: step.round, amountCents: step.reserveCents }),
      );
      bestByRound.push(lowestTotal(current.bids) ?? null);
      step = nextAuctionStep({ ...state, bestTotalByRound: bestByRound });
    }
    const converged = step.stop === 'converged';
    const bids: QuotedBid[] = current.bids;
    if (step.requiresAttention) await flagZeroBids(ctx, ref, `auction round ${bestByRound.length} drew no bid`);
    const facts = { rounds: bestByRound.length, bestTotalByRound: bestByRound, converged, bidders: bids.length };
    const why = rulesSummary(
      `auction: ${bestByRound.length} round(s), best totals ${bestByRound.map((b) => b ?? 'no bid').join(' -> ')}${converged ? ', converged' : ''}`,
    );
    return {
      output: { bids, unreachable: current.unreachable, rounds: bestByRound.length, rationale: why.text, analysis: facts },
      producedBy: why.producedBy,
    };
  },
};
