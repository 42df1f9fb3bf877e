import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { charterHome, readYaml } from '../../common/index.js';

const Pricing = z.strictObject({
  /** USD per 1,000 input tokens. */
  inputPer1k: z.number().nonnegative(),
  /** USD per 1,000 output tokens. */
  outputPer1k: z.number().nonnegative(),
});

/** USD for one call, when the endpoint has pricing and the provider reported usage. */
export function costOf(
  pricing: z.infer<typeof Pricing> | undefined,
  usage: { inputTokens: number; outputTokens: number } | null,
): number | null {
  if (!pricing || !usage) return null;
  return (usage.inputTokens / 1000) * pricing.inputPer1k + (usage.outputTokens / 1000) * pricing.outputPer1k;
}

const Common = {
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().positive().default(512),
  /** Attempts per call, retries included (throttling, 5xx, timeouts). */
  maxAttempts: z.number().int().positive().max(10).default(4),
  /** Per attempt: a request with no complete answer by then is abandoned (and retried while attempts remain). */
  timeoutMs: z.number().int().positive().max(600_000).default(60_000),
  pricing: Pricing.optional(),
};

/** The two ways to reach a model, with `extra` fields added to both. */
function endpointOptions<E extends z.ZodRawShape>(extra: E) {
  return [
    z.strictObject({
      provider: z.literal('bedrock-converse'),
      ...Common,
      ...extra,
      region: z.string().min(1).default('us-east-1'),
      /** Override of the Bedrock runtime endpoint (VPC endpoint, local test server). */
      endpoint: z.url().optional(),
    }),
    z.strictObject({
      provider: z.literal('openai'),
      ...Common,
      ...extra,
      /** Base URL up to and including `/v1`, e.g. `https://api.openai.com/v1`. */
      baseUrl: z.url(),
      /** Name of the environment variable holding the API key (never the key itself). */
      apiKeyEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/)
        .optional(),
    }),
  ] as const;
}

/** Where a model lives: a Bedrock model through Converse, or any OpenAI-compatible endpoint. */
export const ModelEndpoint = z.discriminatedUnion('provider', endpointOptions({}));
export type ModelEndpoint = z.infer<typeof ModelEndpoint>;

/** A judge: a model endpoint plus the agreement (Cohen's kappa) with the labelled set it needs before it may gate. */
export const JudgeConfig = z.discriminatedUnion('provider', endpointOptions({ minKappa: z.number().min(-1).max(1).default(0.6) }));
export type JudgeConfig = z.infer<typeof JudgeConfig>;

/**
 * The judge configuration: `--judge FILE`, else `$CHARTER_HOME/judge.yaml` when it exists,
 * else none (judge metrics are then "not run").
 */
export function loadJudgeConfig(file?: string): { config: JudgeConfig; file: string } | null {
  const path = file ?? join(charterHome(), 'judge.yaml');
  if (!file && !existsSync(path)) return null;
  return { config: readYaml(path, JudgeConfig), file: path };
}

/** A model's identity for reports, caches and calibration records: everything that changes its answers. */
export function judgeIdentity(c: ModelEndpoint): Record<string, unknown> {
  return {
    provider: c.provider,
    model: c.model,
    temperature: c.temperature,
    maxTokens: c.maxTokens,
    ...(c.provider === 'openai' ? { baseUrl: c.baseUrl } : { region: c.region }),
  };
}
