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

const Common = {
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().positive().default(512),
  /** Attempts per call, retries included (throttling, 5xx). */
  maxAttempts: z.number().int().positive().max(10).default(4),
  /** Agreement (Cohen's kappa) with the labelled calibration set required before the judge may gate. */
  minKappa: z.number().min(-1).max(1).default(0.6),
  pricing: Pricing.optional(),
};

/** Where an LLM judge lives: a Bedrock model through Converse, or any OpenAI-compatible endpoint. */
export const JudgeConfig = z.discriminatedUnion('provider', [
  z.strictObject({
    provider: z.literal('bedrock-converse'),
    ...Common,
    region: z.string().min(1).default('us-east-1'),
    /** Override of the Bedrock runtime endpoint (VPC endpoint, local test server). */
    endpoint: z.url().optional(),
  }),
  z.strictObject({
    provider: z.literal('openai'),
    ...Common,
    /** Base URL up to and including `/v1`, e.g. `https://api.openai.com/v1`. */
    baseUrl: z.url(),
    /** Name of the environment variable holding the API key (never the key itself). */
    apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  }),
]);
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

/** The judge's identity for reports and calibration records: everything that changes its verdicts. */
export function judgeIdentity(c: JudgeConfig): Record<string, unknown> {
  return { provider: c.provider, model: c.model, temperature: c.temperature, maxTokens: c.maxTokens, ...(c.provider === 'openai' ? { baseUrl: c.baseUrl } : { region: c.region }) };
}
