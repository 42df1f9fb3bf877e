import { z } from 'zod';
import type { AgentDefinition, AgentResult } from '../agent.js';
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

const MAX_ATTEMPTS = 2;

export const ClassifyRequest = KraljicInput.extend({
  negotiationId: z.string().min(1),
  /** A semantic-cache hit from the orchestrator: recorded as is, no model call. */
  cached: z.object({ classification: z.custom<KraljicClassification>(), model: z.string().nullable() }).optional(),
});
export type ClassifyRequest = z.infer<typeof ClassifyRequest>;

const Recorded = z.object({
  classification: z.object({ quadrant: KraljicQuadrant, confidenceBp: z.number(), rationale: z.string() }).nullable(),
});

/** Pulls the first JSON object out of a model's text (models wrap JSON in prose or fences). */
function firstJsonObject(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

async function decide(input: ClassifyRequest, ctx: Parameters<AgentDefinition['run']>[1]): Promise<AgentResult<KraljicClassification>> {
  if (input.cached) {
    const { classification, model } = input.cached;
    return {
      output: classification,
      producedBy: model ? { model } : { strategy: 'rules' },
      warnings: ['served from the semantic cache (no model call)'],
    };
  }
  if (!ctx.model) return { output: classifyKraljic(input), producedBy: { strategy: 'rules' } };
  await ctx.tools.call('get_category_spend', { categoryId: negotiationRef(ctx, input.categoryId) });
  let answer: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const text = await ctx.ask({
      system:
        'Classify a procurement category in the Kraljic matrix. Answer only JSON: {"quadrant": "Non-Critical"|"Leverage"|"Bottleneck"|"Strategic", "confidence": number between 0 and 1}.',
      prompt: JSON.stringify({
        category: input.name ?? input.categoryId,
        profitImpact: input.profitImpact,
        supplyRisk: input.supplyRisk,
        thresholds: input.thresholds,
      }),
    });
    answer = firstJsonObject(text);
    if (KraljicModelAnswer.safeParse(answer).success) break;
  }
  const output = resolveKraljicAnswer(input, answer);
  return {
    output,
    producedBy: output.method === 'model' ? { model: ctx.model.modelId } : { strategy: 'rules' },
    warnings: output.warnings,
  };
}

/**
 * DAG node 2 (SimpleLLM). With a model: a fixed prompt, a schema-checked answer, retried once;
 * a schema-invalid answer after retries falls back to the rule (confidence 0.0). Without a
 * model: the rule. The quadrant is recorded once through record_classification; a resumed run
 * that finds it recorded returns it instead of writing twice.
 */
export const kraljicClassifier: AgentDefinition<ClassifyRequest, KraljicClassification> = {
  name: 'kraljic-classifier',
  input: ClassifyRequest,
  async run(raw, ctx) {
    const input = { ...raw, thresholds: raw.thresholds ?? ctx.config.kraljicThresholds };
    const ref = negotiationRef(ctx, input.negotiationId);
    const recorded = parseAnswer(
      Recorded,
      'get_negotiation',
      await ctx.tools.call('get_negotiation', { negotiationId: ref }),
    ).classification;
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
    const result = await decide(input, ctx);
    const c = result.output;
    await ctx.tools.call('record_classification', {
      negotiationId: ref,
      quadrant: QUADRANT_CODE[c.quadrant],
      confidenceBp: Math.round(c.confidence * 10_000),
      rationale: `${c.method}${c.warnings.length ? `: ${c.warnings.join('; ')}` : ''}`,
    });
    return result;
  },
};
