import type { AgentDefinition } from '../agent.js';
import { QuoteRound } from '../procurement.js';
import { planSpotRound } from '../strategies/index.js';
import { strategyTask } from './model-tasks.js';
import { rulesSummary } from './rationale.js';
import {
  eligibleSuppliers,
  flagZeroBids,
  lowestTotal,
  negotiationRef,
  parseAnswer,
  StrategyInput,
  type StrategyOutput,
} from './strategy-input.js';

/**
 * DAG node 4a (Non-Critical, SimpleLLM): one sealed round to every eligible supplier under a
 * ceiling of the budget capped by the tenant's spot limit. The fan-out (up to 200 suppliers)
 * happens inside the `solicit_spot_bids` tool, never across agent boundaries.
 */
export const spotBidding: AgentDefinition<StrategyInput, StrategyOutput> = {
  name: 'spot-bidding',
  input: StrategyInput,
  model: strategyTask(
    'Run one sealed spot-bid round: list the eligible suppliers, read the negotiation budget, and solicit bids from the eligible suppliers with solicit_spot_bids, under a ceiling of the budget capped by the tenant limit maxSpotBidCents and a deadline within maxSpotDeadlineHours.',
  ),
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const pool = await eligibleSuppliers(ctx, ref);
    const { limits } = ctx.config;
    const budget = (await ctx.tools.call<{ budgetCents: number }>('get_negotiation', { negotiationId: ref })).budgetCents;
    const plan = planSpotRound({ budgetCents: budget, limits, eligible: pool.map((s) => s.supplierId) });
    const ceiling = plan.ceilingCents;
    const answer = await ctx.tools.call('solicit_spot_bids', {
      negotiationId: ref,
      supplierIds: plan.supplierIds,
      amountCents: ceiling,
      deadlineHours: plan.deadlineHours,
    });
    const round = parseAnswer(QuoteRound, 'solicit_spot_bids', answer);
    if (round.bids.length === 0) await flagZeroBids(ctx, ref, `no bid from ${plan.solicited} solicited supplier(s)`);
    const facts = {
      solicited: plan.solicited,
      eligible: pool.length,
      ceilingCents: ceiling,
      bids: round.bids.length,
      unreachable: round.unreachable.length,
      lowestTotalCents: lowestTotal(round.bids) ?? null,
    };
    const why = rulesSummary(
      `spot round: ${round.bids.length} bid(s) from ${plan.solicited} of ${pool.length} eligible supplier(s) under ${ceiling} cents, ${round.unreachable.length} unreachable`,
    );
    return {
      output: { bids: round.bids, unreachable: round.unreachable, rounds: 1, rationale: why.text, analysis: facts },
      producedBy: why.producedBy,
    };
  },
};
