import type { ProducedBy } from '../agent.js';

/**
 * The text part of a rules answer: the rules' own summary, labelled `strategy: rules`. The
 * rules never ask a model to word their result, so no node is labelled with a model whose
 * numbers it did not choose (with a model configured the agent works through it instead).
 */
export function rulesSummary(text: string): { text: string; producedBy: ProducedBy } {
  return { text, producedBy: { strategy: 'rules' } };
}
