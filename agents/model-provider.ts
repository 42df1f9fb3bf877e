import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ContentBlock,
  type Message,
  type Tool,
  type ToolResultContentBlock,
  type ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { z } from 'zod';
import { BREAKERS, type UpstreamGuard, type UpstreamGuardOptions } from '../common/index.js';
import type { AgentConfig } from './config.js';
import type { LoopMessage, ModelTurn, ProposedCall, ToolUseModel, TurnRequest } from './model-loop.js';

export type ModelTier = 'SimpleLLM' | 'DefaultLLM';

/** Model ids with this prefix name a model behind an OpenAI-compatible chat completions endpoint. */
export const OPENAI_PREFIX = 'openai:';

/** A JSON document as the SDK types it (tool inputs, schemas and results). */
type Document = NonNullable<ToolUseBlock['input']>;

/** A tool result as Converse carries it: JSON when it is an object, else its JSON text. */
function converseResult(content: unknown): ToolResultContentBlock[] {
  return content !== null && typeof content === 'object' && !Array.isArray(content)
    ? [{ json: content as Document }]
    : [{ text: JSON.stringify(content) }];
}

function converseMessages(messages: readonly LoopMessage[]): Message[] {
  return messages.map((m): Message => {
    if (m.role === 'user') return { role: 'user', content: [{ text: m.text }] };
    if (m.role === 'tool')
      return {
        role: 'user',
        content: m.results.map((r) => ({
          toolResult: { toolUseId: r.id, content: converseResult(r.content), status: r.isError ? 'error' : 'success' },
        })),
      };
    // Converse refuses empty text blocks; a turn of calls only has none.
    const text: ContentBlock[] = m.text ? [{ text: m.text }] : [];
    return {
      role: 'assistant',
      content: [...text, ...m.calls.map((c) => ({ toolUse: { toolUseId: c.id, name: c.name, input: c.input as Document } }))],
    };
  });
}

/** Model calls per (region or endpoint, model): a turn may take a minute; five failures in a row open for 30 s. */
export const DEFAULT_MODEL_GUARD: UpstreamGuardOptions = { maxConcurrent: 64, timeoutMs: 60_000, failureThreshold: 5, openMs: 30_000 };

let modelGuard: UpstreamGuard | undefined;

/** The process's breaker on model calls (`bedrock` and OpenAI-compatible endpoints), keyed `region|model` or `endpoint|model`. */
export function defaultModelGuard(): UpstreamGuard {
  return (modelGuard ??= BREAKERS.guard('model', DEFAULT_MODEL_GUARD));
}

/** The caller's bound (the loop's time bound) and the guard's deadline, whichever ends first. */
const either = (a: AbortSignal, b: AbortSignal) => AbortSignal.any([a, b]);

/**
 * Bedrock Converse with tools (`toolConfig` from the agent's manifest tools). Endpoint and
 * region come from the usual AWS settings (AWS_REGION, AWS_ENDPOINT_URL_BEDROCK_RUNTIME), so
 * tests point it at a local server.
 */
export class ConverseToolModel implements ToolUseModel {
  constructor(
    readonly modelId: string,
    private readonly client: BedrockRuntimeClient = new BedrockRuntimeClient({}),
    /** Breaker and deadline per region (and endpoint, when one is set) and model. */
    private readonly guard: UpstreamGuard = defaultModelGuard(),
  ) {}

  /** The region, and the endpoint when one is set (a client's own, or the SDK's environment setting): two endpoints are two services. */
  private async service(): Promise<string> {
    const region = await this.client.config.region();
    const custom = await this.client.config.endpoint?.();
    const endpoint = custom
      ? `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}${custom.path === '/' ? '' : custom.path}`
      : (process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ?? process.env.AWS_ENDPOINT_URL);
    return endpoint ? `${region}|${endpoint}` : region;
  }

  async turn(req: TurnRequest): Promise<ModelTurn> {
    const tools: Tool[] = req.tools.map((t) => ({
      toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.inputSchema as Document } },
    }));
    return this.guard.run(`bedrock:${await this.service()}|${this.modelId}`, async (signal) => {
      const out = await this.client.send(
        new ConverseCommand({
          modelId: this.modelId,
          system: [{ text: req.system }],
          messages: converseMessages(req.messages),
          inferenceConfig: { temperature: req.temperature, maxTokens: req.maxTokens },
          ...(tools.length ? { toolConfig: { tools } } : {}),
        }),
        { abortSignal: either(req.signal, signal) },
      );
      // The SDK accepts any JSON body as an answer; one without a message is not a model turn.
      if (!out.output?.message?.content) throw new Error('the answer carries no message');
      const content = out.output.message.content;
      const calls: ProposedCall[] = content.flatMap((c) =>
        c.toolUse ? [{ id: c.toolUse.toolUseId ?? '', name: c.toolUse.name ?? '', input: c.toolUse.input as unknown }] : [],
      );
      return {
        text: content.map((c) => c.text ?? '').join(''),
        calls,
        inputTokens: out.usage?.inputTokens ?? 0,
        outputTokens: out.usage?.outputTokens ?? 0,
      };
    });
  }
}

const ChatCompletion = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullable().optional(),
          tool_calls: z
            .array(z.object({ id: z.string(), function: z.object({ name: z.string(), arguments: z.string() }) }))
            .nullable()
            .optional(),
        }),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).optional(),
});

/** The model's arguments string as JSON; a string that does not parse stays a string (a malformed proposal). */
function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function chatMessages(system: string, messages: readonly LoopMessage[]): unknown[] {
  const out: unknown[] = [{ role: 'system', content: system }];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.text });
    else if (m.role === 'tool')
      for (const r of m.results) out.push({ role: 'tool', tool_call_id: r.id, content: JSON.stringify(r.content) });
    else
      out.push({
        role: 'assistant',
        content: m.text || null,
        ...(m.calls.length
          ? {
              tool_calls: m.calls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: typeof c.input === 'string' ? c.input : JSON.stringify(c.input) },
              })),
            }
          : {}),
      });
  }
  return out;
}

export interface OpenAiEndpoint {
  /** e.g. `http://127.0.0.1:8080/v1`; `{baseUrl}/chat/completions` is called. */
  baseUrl: string;
  apiKey?: string;
}

/** An OpenAI-compatible `POST {baseUrl}/chat/completions` endpoint with function tools, over fetch. */
export class OpenAiToolModel implements ToolUseModel {
  readonly modelId: string;

  constructor(
    private readonly model: string,
    private readonly endpoint: OpenAiEndpoint | undefined,
    /** Breaker and deadline per endpoint and model. */
    private readonly guard: UpstreamGuard = defaultModelGuard(),
  ) {
    this.modelId = `${OPENAI_PREFIX}${model}`;
  }

  async turn(req: TurnRequest): Promise<ModelTurn> {
    const endpoint = this.endpoint;
    if (!endpoint) throw new Error('no OpenAI-compatible endpoint configured (OPENAI_BASE_URL)');
    return this.guard.run(`${endpoint.baseUrl}|${this.model}`, (signal) => this.send(endpoint, req, either(req.signal, signal)));
  }

  private async send(endpoint: OpenAiEndpoint, req: TurnRequest, signal: AbortSignal): Promise<ModelTurn> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
    const res = await fetch(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers,
      signal,
      body: JSON.stringify({
        model: this.model,
        temperature: req.temperature,
        max_tokens: req.maxTokens,
        messages: chatMessages(req.system, req.messages),
        ...(req.tools.length
          ? {
              tools: req.tools.map((t) => ({
                type: 'function',
                function: { name: t.name, description: t.description, parameters: t.inputSchema },
              })),
            }
          : {}),
      }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    const parsed = ChatCompletion.safeParse(parseArguments(text));
    if (!parsed.success) throw new Error(`the answer is not a chat completion: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const message = parsed.data.choices[0]!.message;
    return {
      text: message.content ?? '',
      calls: (message.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, input: parseArguments(c.function.arguments) })),
      inputTokens: parsed.data.usage?.prompt_tokens ?? 0,
      outputTokens: parsed.data.usage?.completion_tokens ?? 0,
    };
  }
}

/** Where the agents' models are reached (defaults: the AWS settings; OPENAI_BASE_URL and OPENAI_API_KEY). */
export interface ModelClients {
  bedrock?: BedrockRuntimeClient;
  openai?: OpenAiEndpoint;
  /** Models the embedding program supplies by id (the demo's scripted stand-in); they win over the id's provider. */
  supplied?: ReadonlyMap<string, ToolUseModel>;
}

/** The endpoint named by OPENAI_BASE_URL (and OPENAI_API_KEY), if any. */
function openAiFromEnv(): OpenAiEndpoint | undefined {
  const baseUrl = process.env.OPENAI_BASE_URL;
  if (!baseUrl) return undefined;
  return { baseUrl, ...(process.env.OPENAI_API_KEY ? { apiKey: process.env.OPENAI_API_KEY } : {}) };
}

/**
 * The model for a tier, or undefined when none is configured (the agent then runs its rules).
 * An id `openai:<model>` is served by the OpenAI-compatible endpoint, any other by Bedrock Converse.
 */
export function modelForTier(config: AgentConfig, tier: ModelTier, clients: ModelClients = {}): ToolUseModel | undefined {
  const id = config.models[tier];
  if (!id) return undefined;
  return toolUseModel(id, clients);
}

/** The model a model id names: supplied by the program, `openai:<model>` on the OpenAI-compatible endpoint, else Bedrock Converse. */
export function toolUseModel(id: string, clients: ModelClients = {}): ToolUseModel {
  const supplied = clients.supplied?.get(id);
  if (supplied) return supplied;
  if (id.startsWith(OPENAI_PREFIX)) return new OpenAiToolModel(id.slice(OPENAI_PREFIX.length), clients.openai ?? openAiFromEnv());
  return new ConverseToolModel(id, clients.bedrock);
}
