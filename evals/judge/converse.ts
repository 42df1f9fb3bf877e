import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { errorMessage } from '../../common/index.js';
import { JudgeError, type ChatModel, type ChatRequest, type ChatResponse } from './model.js';

export interface ConverseModelOptions {
  model: string;
  region: string;
  endpoint?: string;
  temperature: number;
  maxTokens: number;
  maxAttempts: number;
  /** Per attempt: the SDK's request handler abandons a request with no answer by then (and retries). */
  timeoutMs: number;
}

/**
 * A Bedrock model through the Converse API (`POST /model/{modelId}/converse`). Retries
 * (ThrottlingException, 5xx) are the SDK's standard retry strategy with `maxAttempts`.
 */
export class ConverseModel implements ChatModel {
  readonly id: string;
  private readonly client: BedrockRuntimeClient;

  constructor(private readonly opts: ConverseModelOptions) {
    this.id = `bedrock-converse:${opts.model}`;
    this.client = new BedrockRuntimeClient({
      region: opts.region,
      maxAttempts: opts.maxAttempts,
      requestHandler: { requestTimeout: opts.timeoutMs, connectionTimeout: opts.timeoutMs },
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    });
  }

  async complete(req: ChatRequest): Promise<ChatResponse> {
    let out;
    try {
      out = await this.client.send(
        new ConverseCommand({
          modelId: this.opts.model,
          system: [{ text: req.system }],
          messages: req.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
          inferenceConfig: { maxTokens: this.opts.maxTokens, temperature: this.opts.temperature },
        }),
      );
    } catch (err) {
      throw new JudgeError(`Converse ${this.opts.model}: ${(err as { name?: string }).name ?? 'Error'}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const text = (out.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
    if (!text) throw new JudgeError(`Converse ${this.opts.model}: no text in the response (stopReason ${out.stopReason ?? 'unknown'})`);
    const u = out.usage;
    return { text, usage: u ? { inputTokens: u.inputTokens ?? 0, outputTokens: u.outputTokens ?? 0 } : null };
  }
}
