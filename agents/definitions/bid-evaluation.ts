import { z } from 'zod';
import { ModelAnswerError, type AgentContext, type AgentDefinition } from '../agent.js';
import { BidConstraints, evaluateBids, type BidEvaluation } from '../strategies/index.js';
import { negotiationFacts } from './model-tasks.js';
import { rulesSummary } from './rationale.js';
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
const EvaluationAnswer = z.object({ ranking: z.array(z.string()), award: z.string().nullable(), summary: z.string().min(1).max(4000) });

/** The current round's bids against the hard constraints and the tenant's weights (the rules' evaluation). */
async function currentEvaluation(input: z.infer<typeof BidEvaluationRequest>, ctx: AgentContext) {
  const ref = negotiationRef(ctx, input.negotiationId);
  const { round } = parseAnswer(NegotiationAnswer, 'get_negotiation', await ctx.tools.call('get_negotiation', { negotiationId: ref }));
  const { bids } = await readBids(ctx, ref, round);
  const result = evaluateBids({ negotiationId: input.negotiationId, constraints: input.constraints, weights: ctx.config.bidWeights, bids });
  return { result, bids, round };
}

export const bidEvaluation: AgentDefinition<z.infer<typeof BidEvaluationRequest>, BidEvaluationOutput> = {
  name: 'bid-evaluation',
  input: BidEvaluationRequest,
  model: {
    instructions:
      'Evaluate the bids of the current round (get_bids): exclude those that break the hard constraints given, score the rest on price, delivery, quality and risk with the weights given, record each ranked bid with record_evaluation, and pick the award.',
    answerFormat: '{"ranking": ["<bid id>", ...best first], "award": "<bid id>" | null, "summary": "<at most three sentences>"}',
    answer: EvaluationAnswer,
    prompt: (input, ctx) => negotiationFacts(ctx, input.negotiationId, { constraints: input.constraints, weights: ctx.config.bidWeights }),
    /** The model ranks and picks; the hard constraints are the rules' and bind it: an award they exclude is unusable. */
    async settle(input, ctx, loop) {
      const answer = loop.answer as z.infer<typeof EvaluationAnswer>;
      const { result, bids, round } = await currentEvaluation(input, ctx);
      const unknown = [...answer.ranking, ...(answer.award ? [answer.award] : [])].filter((id) => !result.ranking.includes(id));
      if (unknown.length) throw new ModelAnswerError(`bid(s) ${unknown.join(', ')} are not feasible bids of round ${round}`);
      const chosen = bids.find((b) => b.bidId === answer.award);
      const award = chosen ? { bidId: chosen.bidId, supplierId: chosen.supplierId, priceCents: chosen.priceCents } : null;
      return {
        output: { ...result, ranking: answer.ranking, award, round, rationale: answer.summary },
        producedBy: { model: loop.modelId },
      };
    },
  },
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const { result, round } = await currentEvaluation(input, ctx);
    for (const [i, bidId] of result.ranking.entries()) {
      await ctx.tools.call('record_evaluation', { bidId, scoreBp: Math.round(result.scores[bidId]! * 10_000), rank: i + 1 });
    }
    if (!result.award)
      await ctx.tools.call('flag_requires_attention', {
        negotiationId: ref,
        reason: 'no_acceptable_offer',
        message: `${result.excluded.length} bid(s) excluded`,
      });
    const fallback = result.award
      ? `award to ${result.award.supplierId} (${result.ranking.length} feasible, ${result.excluded.length} excluded)`
      : `no feasible bid (${result.excluded.length} excluded)`;
    const why = rulesSummary(fallback);
    return { output: { ...result, round, rationale: why.text }, producedBy: why.producedBy };
  },
};
