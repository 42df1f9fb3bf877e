import type { LoopMessage } from '../../agents/index.js';
import { startJsonServer, type RecordedRequest, type Reply, type RunningJsonServer } from './converse.js';

/**
 * Local servers that play scripted model turns with tool use, over the two wire protocols the
 * agents speak: Bedrock Converse (`POST /model/{id}/converse`, HTTP/2, SigV4, `toolConfig`,
 * `toolUse` / `toolResult` blocks) and OpenAI chat completions (`tools`, `tool_calls`, `role:
 * tool` messages). The script sees the conversation decoded from the wire into the agents'
 * neutral form, so one script drives both servers; nothing here is a model.
 */
export interface ScriptCall {
  modelId: string;
  system: string;
  /** The tools the request offered, with their input schemas. */
  tools: Array<{ name: string; description: string; schema: unknown }>;
  messages: LoopMessage[];
  request: RecordedRequest;
}

export type ScriptTurn =
  /** A turn: text and/or proposed calls (input sent as is: anything, for malformed proposals). */
  | { text?: string; calls?: Array<{ name: string; input: unknown }>; inputTokens?: number; outputTokens?: number }
  /** An error status, as a throttled or broken service answers. */
  | { error: number }
  /** A 200 whose body is not a valid answer of the protocol. */
  | { garbage: unknown };

export type ToolScript = (call: ScriptCall) => ScriptTurn;

let nextId = 0;
const callId = () => `call_${++nextId}`;

interface ConverseBlock {
  text?: string;
  toolUse?: { toolUseId: string; name: string; input: unknown };
  toolResult?: { toolUseId: string; content: Array<{ json?: unknown; text?: string }>; status?: string };
}

/** A Converse request's messages in the neutral form (tool results are user turns on the wire). */
function converseTranscript(messages: Array<{ role: string; content: ConverseBlock[] }>): LoopMessage[] {
  return messages.map((m): LoopMessage => {
    const results = m.content.filter((c) => c.toolResult);
    if (m.role === 'user' && results.length)
      return {
        role: 'tool',
        results: results.map(({ toolResult: r }) => ({
          id: r!.toolUseId,
          content: r!.content[0]?.json ?? JSON.parse(r!.content[0]?.text ?? 'null'),
          isError: r!.status === 'error',
        })),
      };
    const text = m.content.map((c) => c.text ?? '').join('');
    if (m.role === 'user') return { role: 'user', text };
    return { role: 'assistant', text, calls: m.content.flatMap((c) => (c.toolUse ? [{ id: c.toolUse.toolUseId, ...c.toolUse }] : [])) };
  });
}

function converseError(status: number): Reply {
  const type = status === 429 ? 'ThrottlingException' : status >= 500 ? 'InternalServerException' : 'ValidationException';
  return {
    status,
    headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
    body: { message: 'scripted' },
  };
}

export async function startConverseToolServer(script: ToolScript): Promise<RunningJsonServer> {
  return startJsonServer(
    (req) => {
      const match = /^\/model\/([^/]+)\/converse$/.exec(req.path);
      if (req.method !== 'POST' || !match) return converseError(400);
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) return converseError(403);
      const body = req.body as {
        system?: Array<{ text: string }>;
        messages: Array<{ role: string; content: ConverseBlock[] }>;
        toolConfig?: { tools: Array<{ toolSpec: { name: string; description: string; inputSchema: { json: unknown } } }> };
      };
      const out = script({
        modelId: decodeURIComponent(match[1]!),
        system: (body.system ?? []).map((s) => s.text).join('\n'),
        tools: (body.toolConfig?.tools ?? []).map((t) => ({
          name: t.toolSpec.name,
          description: t.toolSpec.description,
          schema: t.toolSpec.inputSchema.json,
        })),
        messages: converseTranscript(body.messages),
        request: req,
      });
      if ('error' in out) return converseError(out.error);
      if ('garbage' in out) return { status: 200, body: out.garbage };
      const content: ConverseBlock[] = [
        ...(out.text ? [{ text: out.text }] : []),
        ...(out.calls ?? []).map((c) => ({ toolUse: { toolUseId: callId(), name: c.name, input: c.input } })),
      ];
      const inputTokens = out.inputTokens ?? 200;
      const outputTokens = out.outputTokens ?? 40;
      return {
        status: 200,
        body: {
          output: { message: { role: 'assistant', content } },
          stopReason: out.calls?.length ? 'tool_use' : 'end_turn',
          usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
          metrics: { latencyMs: 3 },
        },
      };
    },
    { http2: true },
  );
}

interface ChatMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
}

function chatTranscript(messages: ChatMessage[]): LoopMessage[] {
  const out: LoopMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      const result = { id: m.tool_call_id ?? '', content: JSON.parse(m.content ?? 'null') as unknown, isError: false };
      const last = out.at(-1);
      if (last?.role === 'tool') last.results.push(result);
      else out.push({ role: 'tool', results: [result] });
    } else if (m.role === 'user') out.push({ role: 'user', text: m.content ?? '' });
    else
      out.push({
        role: 'assistant',
        text: m.content ?? '',
        calls: (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, input: c.function.arguments })),
      });
  }
  return out;
}

/** Proposed inputs go on the wire as the `arguments` string; a string input is sent verbatim (malformed JSON). */
export async function startOpenAiToolServer(script: ToolScript): Promise<RunningJsonServer> {
  return startJsonServer((req): Reply => {
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions') return { status: 404, body: { error: { message: 'no route' } } };
    const body = req.body as {
      model: string;
      messages: ChatMessage[];
      tools?: Array<{ function: { name: string; description: string; parameters: unknown } }>;
    };
    const out = script({
      modelId: `openai:${body.model}`,
      system: body.messages.find((m) => m.role === 'system')?.content ?? '',
      tools: (body.tools ?? []).map((t) => ({ name: t.function.name, description: t.function.description, schema: t.function.parameters })),
      messages: chatTranscript(body.messages),
      request: req,
    });
    if ('error' in out) return { status: out.error, body: { error: { message: 'scripted failure' } } };
    if ('garbage' in out) return { status: 200, body: out.garbage };
    const toolCalls = (out.calls ?? []).map((c) => ({
      id: callId(),
      type: 'function',
      function: { name: c.name, arguments: typeof c.input === 'string' ? c.input : JSON.stringify(c.input) },
    }));
    return {
      status: 200,
      body: {
        id: 'chatcmpl-scripted',
        object: 'chat.completion',
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: out.text ?? null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
            finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
          },
        ],
        usage: { prompt_tokens: out.inputTokens ?? 200, completion_tokens: out.outputTokens ?? 40 },
      },
    };
  });
}
