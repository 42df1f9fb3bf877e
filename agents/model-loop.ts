import { SpanKind } from '@opentelemetry/api';
import { ATTR, errorMessage, inSpan } from '../common/index.js';
import type { ModelLoopBounds } from './config.js';
import type { Toolbox, ToolResult } from './toolbox.js';

/** A tool as the model is offered it: the manifest tool's name, description and argument contract (JSON Schema). */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** A tool call the model proposed, exactly as it came: the input may be anything (a malformed proposal). */
export interface ProposedCall {
  id: string;
  name: string;
  input: unknown;
}

/** The conversation of one loop, in a provider-neutral form each client maps to its wire format. */
export type LoopMessage =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; calls: ProposedCall[] }
  | { role: 'tool'; results: Array<{ id: string; content: unknown; isError: boolean }> };

export interface TurnRequest {
  system: string;
  messages: readonly LoopMessage[];
  tools: readonly ToolSpec[];
  temperature: number;
  maxTokens: number;
  /** Aborted at the loop's deadline. */
  signal: AbortSignal;
}

export interface ModelTurn {
  text: string;
  calls: ProposedCall[];
  inputTokens: number;
  outputTokens: number;
}

/** A model that can propose tool calls (Bedrock Converse, an OpenAI-compatible endpoint). */
export interface ToolUseModel {
  readonly modelId: string;
  /** One model turn; throws on a transport or protocol failure (the loop then ends `failed`). */
  turn(req: TurnRequest): Promise<ModelTurn>;
}

/** One proposal and what became of it: every proposal reached the gateway and has a decision record. */
export interface LoopCall {
  tool: string;
  input: unknown;
  result: ToolResult;
  /** Blocked at the gateway (denied, approval pending, or stopped by this loop and recorded as a deny). */
  refused: boolean;
}

/**
 * How a loop ended. `answered`: the model gave a final answer that passed the task's check.
 * `cut-off`: a bound was hit while the model still proposed calls (those were stopped, each
 * recorded as a deny). `failed`: the model failed (an error, the deadline, an answer that
 * failed its check twice); the rules take over.
 */
export type LoopEnd =
  { kind: 'answered'; text: string; answer: unknown } | { kind: 'cut-off'; bound: string } | { kind: 'failed'; reason: string };

export interface LoopRun {
  end: LoopEnd;
  calls: LoopCall[];
  turns: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface LoopOptions {
  model: ToolUseModel;
  tools: Toolbox;
  specs: readonly ToolSpec[];
  system: string;
  prompt: string;
  bounds: ModelLoopBounds;
  temperature: number;
  maxTokens: number;
  /** Checks a final answer: the parsed answer, or a problem the model is told about (it may answer once more). */
  check(text: string): { ok: true; answer: unknown } | { ok: false; problem: string };
}

/** Outcomes by which the gateway blocked a call. */
const BLOCKED = new Set(['denied', 'approval-pending']);

function isRefusal(result: ToolResult): boolean {
  return result.isError && (!result.decision || BLOCKED.has(result.decision.outcome));
}

/** Why a proposal cannot be sent as a tool call at all (no usable name, input not a JSON object). */
function malformed(call: ProposedCall): string | undefined {
  if (typeof call.name !== 'string' || call.name.length === 0) return 'the proposal names no tool';
  if (call.input === null || typeof call.input !== 'object' || Array.isArray(call.input))
    return `the proposed input is not a JSON object (${call.input === null ? 'null' : Array.isArray(call.input) ? 'array' : typeof call.input})`;
  return undefined;
}

/** What the model is told about a call: the tool's value, or why it was refused or failed. */
function toolContent(result: ToolResult): { content: unknown; isError: boolean } {
  if (!result.isError) return { content: result.value ?? null, isError: false };
  const d = result.decision;
  return {
    content: d
      ? { refused: isRefusal(result), outcome: d.outcome, reasons: d.reasons, recordId: d.recordId, error: result.error }
      : { error: result.error },
    isError: true,
  };
}

/**
 * The tool-use loop of a model-driven agent. The model proposes calls; each one goes through
 * the agent's toolbox, so the gateway decides it with Cedar and records it, and a refusal goes
 * back to the model as a tool result with the reasons. The loop is bounded by model turns,
 * proposals, tokens, cost and wall time: when a bound is hit while the model still proposes
 * calls, those proposals are sent to the gateway marked as stopped, so each is recorded as a
 * deny naming the bound, and the loop ends `cut-off`. Nothing the model writes is trusted:
 * proposals are data, the final answer is checked by the task.
 */
export async function runToolLoop(opts: LoopOptions): Promise<LoopRun> {
  const { bounds } = opts;
  const run: LoopRun = { end: { kind: 'failed', reason: 'not run' }, calls: [], turns: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const messages: LoopMessage[] = [{ role: 'user', text: opts.prompt }];
  const signal = AbortSignal.timeout(bounds.maxSeconds * 1000);
  let answerRetries = 1;
  for (;;) {
    let turn: ModelTurn;
    try {
      // Each model call as a span of the invocation's trace (the API's no-op span when tracing is off).
      turn = await inSpan(
        'model.turn',
        { [ATTR.tenant]: opts.tools.tenantId, [ATTR.agent]: opts.tools.agent, 'gen_ai.request.model': opts.model.modelId },
        async (span) => {
          const t = await opts.model.turn({
            system: opts.system,
            messages,
            tools: opts.specs,
            temperature: opts.temperature,
            maxTokens: opts.maxTokens,
            signal,
          });
          if (span.isRecording())
            span.setAttributes({ 'gen_ai.usage.input_tokens': t.inputTokens, 'gen_ai.usage.output_tokens': t.outputTokens });
          return t;
        },
        { kind: SpanKind.CLIENT },
      );
    } catch (err) {
      const reason = signal.aborted ? `no answer within the ${bounds.maxSeconds} s time bound` : errorMessage(err);
      run.end = { kind: 'failed', reason: `model ${opts.model.modelId} failed: ${reason}` };
      return run;
    }
    run.turns++;
    run.inputTokens += turn.inputTokens;
    run.outputTokens += turn.outputTokens;
    run.costUsd = (run.inputTokens * bounds.usdPerMillionInputTokens + run.outputTokens * bounds.usdPerMillionOutputTokens) / 1_000_000;
    messages.push({ role: 'assistant', text: turn.text, calls: turn.calls });
    if (turn.calls.length === 0) {
      const checked = opts.check(turn.text);
      if (checked.ok) {
        run.end = { kind: 'answered', text: turn.text, answer: checked.answer };
        return run;
      }
      if (answerRetries-- > 0 && run.turns < bounds.maxTurns) {
        messages.push({ role: 'user', text: `Your answer was not usable: ${checked.problem}. Answer again.` });
        continue;
      }
      run.end = { kind: 'failed', reason: `model ${opts.model.modelId} gave no usable answer: ${checked.problem}` };
      return run;
    }
    const bound = boundHit(run, turn.calls.length, bounds, signal);
    const results: Array<{ id: string; content: unknown; isError: boolean }> = [];
    for (const call of turn.calls) {
      const problem = bound ?? malformed(call);
      const result = problem
        ? await opts.tools.stop(String(call.name || '(none)'), problem)
        : await opts.tools.propose(call.name, call.input as Record<string, unknown>);
      run.calls.push({ tool: call.name, input: call.input, result, refused: problem !== undefined || isRefusal(result) });
      results.push({ id: call.id, ...toolContent(result) });
    }
    if (bound) {
      run.end = { kind: 'cut-off', bound };
      return run;
    }
    messages.push({ role: 'tool', results });
  }
}

/** The bound that stops the proposals of this turn, or undefined while within every bound. */
function boundHit(run: LoopRun, proposed: number, b: ModelLoopBounds, signal: AbortSignal): string | undefined {
  const made = run.calls.length;
  if (run.turns >= b.maxTurns) return `model turn bound reached (${b.maxTurns} turns)`;
  if (made + proposed > b.maxToolCalls) return `tool call bound reached (${b.maxToolCalls} proposals)`;
  if (run.inputTokens + run.outputTokens > b.maxTokens)
    return `token bound reached (${run.inputTokens + run.outputTokens} > ${b.maxTokens})`;
  if (run.costUsd > b.maxCostUsd) return `cost bound reached ($${run.costUsd.toFixed(4)} > $${b.maxCostUsd})`;
  if (signal.aborted) return `time bound reached (${b.maxSeconds} s)`;
  return undefined;
}
