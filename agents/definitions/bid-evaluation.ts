import { z } from 'zod';
import type { AgentDefinition } from '../agent.js';
import { BidConstraints, evaluateBids, type BidEvaluation } from '../strategies/index.js';
import { explain } from './rationale.js';
import { NegotiationAnswer, negotiationRef, parseAnswer, readBids } from './strategy-input.js';

export const BidEvaluationRequest = z.strictObject({
  negotiationId: z.string().min(1),
  constraints: BidConstraints.default({ requiredCertifications: [] }),
});

export type BidEvaluationOutput = BidEvaluation & { rationale: string; round: number };

/**
 * DAG node 5 (DefaultLLM): the bids of the current round are read back from state, checked
 * against the hard constraints and scored with the tenant's weights; every ranked bid's score
 * is recorded, and a negotiation without an acceptable offer is flagged.
 */
export const bidEvaluation: AgentDefinition<z.infer<typeof BidEvaluationRequest>, BidEvaluationOutput> = {
  name: 'bid-evaluation',
  input: BidEvaluationRequest,
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const { round } = parseAnswer(NegotiationAnswer, 'get_negotiation', await ctx.tools.call('get_negotiation', { negotiationId: ref }));
    const { bids } = await readBids(ctx, ref, round);
    const result = evaluateBids({
      negotiationId: input.negotiationId,
      constraints: input.constraints,
      weights: ctx.config.bidWeights,
      bids,
    });
    for (const [i, bidId] of result.ranking.entries()) {
      await ctx.tools.call('record_evaluation', { bidId, scoreBp: Math.round(result.scores[bidId]! * 10_000), rank: i + 1 });
    }
    if (!result.award)
      await ctx.tools.call('flag_requires_attention', {
        negotiationId: ref,
        reason: 'no_acceptable_offer',
        message: `${result.excluded.length} bid(s) excluded`,
      });
    const facts = { round, feasible: result.ranking.length, excluded: result.excluded.length, award: result.award };
    const fallback = result.award
      ? `award to ${result.award.supplierId} (${result.ranking.length} feasible, ${result.excluded.length} excluded)`
      : `no feasible bid (${result.excluded.length} excluded)`;
    const why = await explain(ctx, 'Explain the bid evaluation outcome to the buyer.', facts, fallback);
    return { output: { ...result, round, rationale: why.text }, producedBy: why.producedBy };
  },
};
