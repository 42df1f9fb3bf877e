import { z } from 'zod';
import { ModelAnswerError, type AgentContext, type ModelTask, type SettledLoop } from '../agent.js';
import type { LoopCall } from '../model-loop.js';
import { negotiationRef, readBids, StrategyInput, type StrategyOutput } from './strategy-input.js';

/** The final answer of agents whose output is read back from state: a short summary for the buyer. */
export const SummaryAnswer = z.object({ summary: z.string().min(1).max(4000) });
export const SUMMARY_FORMAT = '{"summary": "<at most three sentences for the buyer>"}';

/** The calls of a tool the gateway allowed in the loop, with their inputs and values. */
export function allowedCalls(loop: SettledLoop, tool: string): LoopCall[] {
  return loop.calls.filter((c) => c.tool === tool && !c.result.isError);
}

/** The facts every negotiation agent starts from: the negotiation as tools name it, and the tenant's limits. */
export function negotiationFacts(ctx: AgentContext, negotiationId: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ negotiationId: negotiationRef(ctx, negotiationId), limits: ctx.config.limits, ...extra });
}

/**
 * The model task of a node-4 strategy agent: the model runs the strategy with its tools; the
 * bids are then read back from state (never taken from the model's text), and a round without
 * bids hands the node to the rules.
 */
export function strategyTask(
  instructions: string,
  extra: (ctx: AgentContext) => Record<string, unknown> = () => ({}),
): ModelTask<StrategyInput, StrategyOutput> {
  return {
    instructions,
    answerFormat: SUMMARY_FORMAT,
    answer: SummaryAnswer,
    prompt: (input, ctx) => negotiationFacts(ctx, input.negotiationId, extra(ctx)),
    async settle(input, ctx, loop) {
      const round = await readBids(ctx, negotiationRef(ctx, input.negotiationId));
      if (round.bids.length === 0) throw new ModelAnswerError('no bids were collected');
      const { summary } = loop.answer as z.infer<typeof SummaryAnswer>;
      const rounds = Math.max(...round.bids.map((b) => b.round));
      return {
        output: {
          bids: round.bids,
          unreachable: round.unreachable,
          rounds,
          rationale: summary,
          analysis: { toolCalls: loop.calls.map((c) => c.tool) },
        },
        producedBy: { model: loop.modelId },
      };
    },
  };
}
