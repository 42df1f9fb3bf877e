import { hang, startJsonServer, type RecordedRequest, type Reply, type RunningJsonServer } from './converse.js';

/**
 * A local server speaking the OpenAI chat completions wire format:
 * `POST /v1/chat/completions` with `{model, messages, temperature, max_tokens}`, answered with
 * `{choices: [{message: {role, content}}], usage}`. 429 carries Retry-After. The "model" is
 * scripted by the test through the script function.
 */
export interface ChatCall {
  model: string;
  system: string;
  userText: string;
  request: RecordedRequest;
}

export type ChatScript = (call: ChatCall) => { text: string } | { status: number; retryAfter?: string } | { hang: true };

export async function startOpenAiServer(script: ChatScript, opts: { apiKey?: string } = {}): Promise<RunningJsonServer> {
  return startJsonServer((req, closing): Reply | Promise<Reply> => {
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions')
      return { status: 404, body: { error: { message: `no route ${req.method} ${req.path}` } } };
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`)
      return { status: 401, body: { error: { message: 'bad api key' } } };
    const body = req.body as { model?: unknown; messages?: Array<{ role: string; content: string }> } | null;
    if (typeof body?.model !== 'string' || !Array.isArray(body.messages) || body.messages.some((m) => typeof m.content !== 'string')) {
      return { status: 400, body: { error: { message: 'malformed chat completion request' } } };
    }
    const out = script({
      model: body.model,
      system: body.messages
        .filter((m) => m.role === 'system')
        .map((m) => m.content)
        .join('\n'),
      userText: body.messages
        .filter((m) => m.role !== 'system')
        .map((m) => m.content)
        .join('\n'),
      request: req,
    });
    if ('hang' in out) return hang(closing);
    if ('status' in out)
      return {
        status: out.status,
        headers: out.retryAfter ? { 'retry-after': out.retryAfter } : {},
        body: { error: { message: 'scripted failure' } },
      };
    return {
      status: 200,
      body: {
        id: 'chatcmpl-test',
        object: 'chat.completion',
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: out.text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      },
    };
  });
}
