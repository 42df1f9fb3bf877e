import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import type { AgentConfig } from './config.js';

export type ModelTier = 'SimpleLLM' | 'DefaultLLM';

export interface ModelAnswer {
  text: string;
  modelId: string;
  inputTokens: number;
  outputTokens: number;
}

/** What an agent asks a model: one system prompt, one user turn. */
export interface ModelRequest {
  system: string;
  prompt: string;
  temperature: number;
  maxTokens: number;
}

export interface ModelProvider {
  readonly modelId: string;
  complete(req: ModelRequest): Promise<ModelAnswer>;
}

/**
 * Bedrock Converse, the provider behind both tiers. Endpoint and region come from the usual AWS
 * settings (AWS_REGION, AWS_ENDPOINT_URL_BEDROCK_RUNTIME), so tests point it at a local server.
 */
export class BedrockConverseProvider implements ModelProvider {
  constructor(
    readonly modelId: string,
    private readonly client: BedrockRuntimeClient = new BedrockRuntimeClient({}),
  ) {}

  async complete(req: ModelRequest): Promise<ModelAnswer> {
    const out = await this.client.send(
      new ConverseCommand({
        modelId: this.modelId,
        system: [{ text: req.system }],
        messages: [{ role: 'user', content: [{ text: req.prompt }] }],
        inferenceConfig: { temperature: req.temperature, maxTokens: req.maxTokens },
      }),
    );
    const text = (out.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
    return { text, modelId: this.modelId, inputTokens: out.usage?.inputTokens ?? 0, outputTokens: out.usage?.outputTokens ?? 0 };
  }
}

/** The model for a tier, or undefined when none is configured (the agent then runs its rules). */
export function modelForTier(config: AgentConfig, tier: ModelTier, client?: BedrockRuntimeClient): ModelProvider | undefined {
  const id = config.models[tier];
  return id ? new BedrockConverseProvider(id, client) : undefined;
}
