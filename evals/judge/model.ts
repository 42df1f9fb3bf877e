/** A chat request a judge model answers: one system prompt, alternating user/assistant turns. */
export interface ChatRequest {
  system: string;
  messages: Array<{ role: 'user' | 'assistant'; content: string }>;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResponse {
  text: string;
  usage: TokenUsage | null;
}

/** A model the judge calls (Bedrock Converse, OpenAI-compatible). Throws JudgeError on failure. */
export interface ChatModel {
  readonly id: string;
  complete(request: ChatRequest): Promise<ChatResponse>;
}

/** The judge could not produce a verdict (transport failure after retries, malformed answer). */
export class JudgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JudgeError';
  }
}
