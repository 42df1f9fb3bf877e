import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { errorMessage } from '../../common/index.js';
import { JudgeError, type ChatModel, type ChatRequest, type ChatResponse } from './model.js';

export interface OpenAiModelOptions {
  model: string;
  baseUrl: string;
  apiKey?: string;
  temperature: number;
  maxTokens: number;
  maxAttempts: number;
  /** Per attempt, the whole exchange (connect, headers, body). */
  timeoutMs: number;
  /** First retry delay; doubles per attempt (a Retry-After header wins when present). */
  retryBaseMs?: number;
}

const ChatCompletion = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).optional(),
});

/** Any OpenAI-compatible `POST {baseUrl}/chat/completions` endpoint, over fetch. */
export class OpenAiModel implements ChatModel {
  readonly id: string;

  constructor(private readonly opts: OpenAiModelOptions) {
    this.id = `openai:${opts.model}`;
  }

  async complete(req: ChatRequest): Promise<ChatResponse> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const body = JSON.stringify({
      model: this.opts.model,
      temperature: this.opts.temperature,
      max_tokens: this.opts.maxTokens,
      messages: [{ role: 'system', content: req.system }, ...req.messages],
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let last = '';
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      let res: Response;
      let text: string;
      try {
        // One signal covers the headers and the body: a server that stalls mid-answer times out too.
        res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs) });
        text = await res.text();
      } catch (err) {
        last =
          (err as Error).name === 'TimeoutError' ? `timed out after ${this.opts.timeoutMs} ms` : `request failed: ${errorMessage(err)}`;
        await this.backoff(attempt, null);
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        last = `HTTP ${res.status}: ${text.slice(0, 200)}`;
        await this.backoff(attempt, res.headers.get('retry-after'));
        continue;
      }
      if (!res.ok) throw new JudgeError(`${this.id}: HTTP ${res.status}: ${text.slice(0, 200)}`);
      let parsed;
      try {
        parsed = ChatCompletion.parse(JSON.parse(text));
      } catch (err) {
        throw new JudgeError(`${this.id}: response is not a chat completion: ${errorMessage(err).slice(0, 200)}`);
      }
      const content = parsed.choices[0]!.message.content;
      if (!content) throw new JudgeError(`${this.id}: empty completion`);
      const u = parsed.usage;
      return { text: content, usage: u ? { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens } : null };
    }
    throw new JudgeError(`${this.id}: gave up after ${this.opts.maxAttempts} attempts (${last})`);
  }

  private async backoff(attempt: number, retryAfter: string | null): Promise<void> {
    if (attempt >= this.opts.maxAttempts) return;
    const seconds = retryAfter !== null ? Number(retryAfter) : NaN;
    await sleep(Number.isFinite(seconds) ? seconds * 1000 : (this.opts.retryBaseMs ?? 250) * 2 ** (attempt - 1));
  }
}
