import type { AgentContext, ProducedBy } from '../agent.js';

/**
 * The text part of an agent's answer. With a model configured the model writes it from the
 * facts the rules computed (the numbers stay the rules'); without one the rules' own summary is
 * used and the output says `strategy: rules`. Nothing pretends a model answered.
 */
export async function explain(
  ctx: AgentContext,
  task: string,
  facts: Record<string, unknown>,
  fallback: string,
): Promise<{ text: string; producedBy: ProducedBy }> {
  if (!ctx.model) return { text: fallback, producedBy: { strategy: 'rules' } };
  const text = await ctx.ask({
    system:
      'You are a procurement agent. Answer in at most three sentences, using only the facts given. Do not invent suppliers, prices or dates.',
    prompt: `${task}\nFacts (JSON): ${JSON.stringify(facts)}`,
  });
  return { text: text.trim() || fallback, producedBy: { model: ctx.model.modelId } };
}
