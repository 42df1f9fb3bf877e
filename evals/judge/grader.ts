import { z } from 'zod';
import { allowEgress, errorMessage } from '../../common/index.js';
import { digestJson } from '../../signing/index.js';
import { ResponseCache } from '../cache.js';
import { costOf, judgeIdentity, type JudgeConfig, type ModelEndpoint } from './config.js';
import { ConverseModel } from './converse.js';
import { JudgeError, type ChatModel, type ChatRequest, type TokenUsage } from './model.js';
import { OpenAiModel } from './openai.js';

/** What a judge must answer (promptfoo's llm-rubric contract). */
export const JudgeVerdict = z.strictObject({ pass: z.boolean(), score: z.number().min(0).max(1), reason: z.string() });
export type JudgeVerdict = z.infer<typeof JudgeVerdict>;

/**
 * The one rule for what a verdict counts as, in runs and in calibration alike: `pass` decides
 * (1 or 0). promptfoo's rubric prompt asks the judge whether the output passes the rubric and for
 * a score; `score` is the judge's own confidence-like number, kept in the record and never
 * counted, so `{pass: true, score: 0.9}` is a pass.
 */
export function verdictValue(v: Pick<JudgeVerdict, 'pass'>): 0 | 1 {
  return v.pass ? 1 : 0;
}

/** One judge call: usage of this call (null on a cache hit: no new tokens), its cost, the validated verdict or the error. */
export interface JudgeCall {
  usage: TokenUsage | null;
  costUsd: number | null;
  cached: boolean;
  verdict?: JudgeVerdict;
  error?: string;
}

/** The key of one judge call: a test (promptfoo's caseKey var) and the judge scorer grading it. */
export const judgeCallKey = (caseKey: string, scorer: string) => `${caseKey}/${scorer}`;

export function chatModelFor(config: ModelEndpoint): ChatModel {
  // The model endpoint is named by the configuration, so the egress allow-list admits it.
  if (config.provider === 'bedrock-converse')
    allowEgress(config.endpoint ?? `https://bedrock-runtime.${config.region}.amazonaws.com`, `${config.provider} model ${config.model}`);
  else allowEgress(config.baseUrl, `openai-compatible model ${config.model}`);
  const common = {
    model: config.model,
    temperature: config.temperature,
    maxTokens: config.maxTokens,
    maxAttempts: config.maxAttempts,
    timeoutMs: config.timeoutMs,
  };
  if (config.provider === 'bedrock-converse')
    return new ConverseModel({ ...common, region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) });
  const apiKey = config.apiKeyEnv ? process.env[config.apiKeyEnv] : undefined;
  return new OpenAiModel({ ...common, baseUrl: config.baseUrl, ...(apiKey ? { apiKey } : {}) });
}

/** A model answer that must be one JSON value, optionally inside one ```json fence; anything else is a JudgeError. */
export function parseJsonAnswer(text: string, who: string): unknown {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n```$/.exec(trimmed);
  try {
    return JSON.parse(fenced ? fenced[1]! : trimmed);
  } catch {
    throw new JudgeError(`malformed ${who} output (not JSON): ${JSON.stringify(trimmed.slice(0, 120))}`);
  }
}

/**
 * The grader's answer must be exactly one JSON object, optionally inside one ```json fence.
 * Anything else is a judge error: a verdict is never guessed from prose.
 */
export function parseVerdict(text: string): JudgeVerdict {
  const value = parseJsonAnswer(text, 'judge');
  const parsed = JudgeVerdict.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new JudgeError(`malformed judge output: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** promptfoo renders the grading prompt as a JSON array of chat messages; a plain string is one user turn. */
export function toChatRequest(prompt: string): ChatRequest {
  let messages: Array<{ role: string; content: string }>;
  try {
    const parsed = JSON.parse(prompt) as unknown;
    messages = Array.isArray(parsed) ? (parsed as typeof messages) : [{ role: 'user', content: prompt }];
  } catch {
    messages = [{ role: 'user', content: prompt }];
  }
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const turns = messages
    .filter((m) => m.role !== 'system')
    .map((m) => ({ role: m.role === 'assistant' ? ('assistant' as const) : ('user' as const), content: String(m.content) }));
  return { system, messages: turns };
}

/** The promptfoo provider interface the grader implements (an object with id() and callApi()). */
export interface GraderProvider {
  id(): string;
  callApi(
    prompt: string,
    context?: { vars?: Record<string, unknown> },
  ): Promise<{ output?: string; error?: string; tokenUsage?: Record<string, number>; cost?: number }>;
}

/**
 * An LLM judge: Charter's grader provider for promptfoo's llm-rubric. It validates every answer,
 * caches validated answers by request hash, and records per case (the `caseKey` test var) the
 * usage, cost and any error, so a judge failure is reported as an error, never as a verdict.
 */
export class Judge {
  readonly identity: Record<string, unknown>;
  readonly digest: string;
  readonly calls = new Map<string, JudgeCall>();
  private readonly model: ChatModel;

  constructor(
    readonly config: JudgeConfig,
    private readonly cache: ResponseCache | null,
    model?: ChatModel,
  ) {
    this.identity = judgeIdentity(config);
    this.digest = digestJson(this.identity);
    this.model = model ?? chatModelFor(config);
  }

  private cost(usage: TokenUsage | null): number | null {
    return costOf(this.config.pricing, usage);
  }

  /** Grades one rendered prompt; the verdict, or a JudgeError. */
  async grade(prompt: string, caseKey: string): Promise<JudgeVerdict> {
    const request = toChatRequest(prompt);
    const key = ResponseCache.keyOf({ judge: this.identity, request });
    const hit = this.cache?.get<{ verdict: JudgeVerdict; usage: TokenUsage | null }>(key);
    if (hit && JudgeVerdict.safeParse(hit.verdict).success) {
      this.calls.set(caseKey, { usage: null, costUsd: 0, cached: true, verdict: hit.verdict });
      return hit.verdict;
    }
    let usage: TokenUsage | null = null;
    try {
      const res = await this.model.complete(request);
      usage = res.usage;
      const verdict = parseVerdict(res.text);
      this.cache?.set(key, { verdict, usage });
      this.calls.set(caseKey, { usage, costUsd: this.cost(usage), cached: false, verdict });
      return verdict;
    } catch (err) {
      this.calls.set(caseKey, { usage, costUsd: this.cost(usage), cached: false, error: errorMessage(err) });
      throw err instanceof JudgeError ? err : new JudgeError(errorMessage(err), { cause: err });
    }
  }

  /** The grader for one judge scorer: its calls are recorded under judgeCallKey(caseKey, scorer). */
  provider(scorer: string): GraderProvider {
    return {
      id: () => `charter-judge:${this.model.id}`,
      callApi: async (prompt, context) => {
        const caseKey = judgeCallKey(String(context?.vars?.caseKey ?? ''), scorer);
        try {
          const verdict = await this.grade(prompt, caseKey);
          const u = this.calls.get(caseKey)?.usage;
          return {
            output: JSON.stringify(verdict),
            ...(u ? { tokenUsage: { prompt: u.inputTokens, completion: u.outputTokens, total: u.inputTokens + u.outputTokens } } : {}),
          };
        } catch (err) {
          return { error: errorMessage(err) };
        }
      },
    };
  }
}
