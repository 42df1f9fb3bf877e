import { z } from 'zod';
import type { AgentContext, AgentDefinition, AgentResult } from '../agent.js';
import { QUADRANT_CODE } from '../procurement.js';
import {
  classifyKraljic,
  KraljicInput,
  KraljicModelAnswer,
  KraljicQuadrant,
  resolveKraljicAnswer,
  type KraljicClassification,
} from '../strategies/index.js';
import { negotiationRef, parseAnswer } from './strategy-input.js';

export const ClassifyRequest = KraljicInput.extend({
  negotiationId: z.string().min(1),
  /** A semantic-cache hit from the orchestrator: recorded as is, no model call. */
  cached: z.object({ classification: z.custom<KraljicClassification>(), model: z.string().nullable() }).optional(),
});
export type ClassifyRequest = z.infer<typeof ClassifyRequest>;

const Recorded = z.object({
  classification: z.object({ quadrant: KraljicQuadrant, confidenceBp: z.number(), rationale: z.string() }).nullable(),
});

type Classified = AgentResult<KraljicClassification>;

function withThresholds(raw: ClassifyRequest, ctx: AgentContext): ClassifyRequest {
  return { ...raw, thresholds: raw.thresholds ?? ctx.config.kraljicThresholds };
}

/** A resumed run that finds the quadrant recorded returns it; a semantic-cache hit is recorded as is. Else undefined. */
async function alreadyDecided(input: ClassifyRequest, ctx: AgentContext): Promise<Classified | undefined> {
  const ref = negotiationRef(ctx, input.negotiationId);
  const recorded = parseAnswer(Recorded, 'get_negotiation', await ctx.tools.call('get_negotiation', { negotiationId: ref })).classification;
  if (recorded) {
    const output: KraljicClassification = {
      categoryId: input.categoryId,
      quadrant: recorded.quadrant,
      confidence: recorded.confidenceBp / 10_000,
      method: 'rule-based',
      warnings: ['already recorded (resumed run)'],
    };
    return { output, producedBy: { strategy: 'rules' }, warnings: output.warnings };
  }
  if (!input.cached) return undefined;
  const { classification, model } = input.cached;
  return record(ctx, input, {
    output: classification,
    producedBy: model ? { model } : { strategy: 'rules' },
    warnings: ['served from the semantic cache (no model call)'],
  });
}

/** The quadrant is recorded once, through record_classification. */
async function record(ctx: AgentContext, input: ClassifyRequest, result: Classified): Promise<Classified> {
  const c = result.output;
  await ctx.tools.call('record_classification', {
    negotiationId: negotiationRef(ctx, input.negotiationId),
    quadrant: QUADRANT_CODE[c.quadrant],
    confidenceBp: Math.round(c.confidence * 10_000),
    rationale: `${c.method}${c.warnings.length ? `: ${c.warnings.join('; ')}` : ''}`,
  });
  return result;
}

/**
 * DAG node 2 (SimpleLLM). With a model: its tool-use loop (the category's spend and risk
 * signals are its tools), a schema-checked final answer (asked once more when it fails), and
 * a schema-invalid answer after that falls back to the rule with confidence 0.0. Without a
 * model: the rule. The quadrant is recorded once through record_classification.
 */
export const kraljicClassifier: AgentDefinition<ClassifyRequest, KraljicClassification> = {
  name: 'kraljic-classifier',
  input: ClassifyRequest,
  model: {
    instructions:
      'Classify the procurement category in the Kraljic matrix by profit impact and supply risk against the thresholds given. You may read the category spend and supply risk signals. Do not record the classification: the platform records your answer.',
    answerFormat: '{"quadrant": "Non-Critical"|"Leverage"|"Bottleneck"|"Strategic", "confidence": <number between 0 and 1>}',
    answer: KraljicModelAnswer,
    settled: (raw, ctx) => alreadyDecided(withThresholds(raw, ctx), ctx),
    prompt: (raw, ctx) => {
      const input = withThresholds(raw, ctx);
      return JSON.stringify({
        category: input.name ?? input.categoryId,
        categoryId: negotiationRef(ctx, input.categoryId),
        profitImpact: input.profitImpact,
        supplyRisk: input.supplyRisk,
        thresholds: input.thresholds,
      });
    },
    async settle(raw, ctx, loop) {
      const input = withThresholds(raw, ctx);
      const output = resolveKraljicAnswer(input, loop.answer);
      return record(ctx, input, { output, producedBy: { model: loop.modelId }, warnings: output.warnings });
    },
  },
  async run(raw, ctx) {
    const input = withThresholds(raw, ctx);
    const decided = await alreadyDecided(input, ctx);
    if (decided) return decided;
    const rule = classifyKraljic(input);
    // Standing in for a model that failed: the seed's rule-based fallback (confidence 0.0, as every rule answer).
    const output = ctx.modelFailure ? { ...rule, warnings: [`rule-based fallback (${ctx.modelFailure})`] } : rule;
    return record(ctx, input, { output, producedBy: { strategy: 'rules' }, warnings: output.warnings });
  },
};
