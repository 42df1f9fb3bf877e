import { z } from 'zod';
import { BREAKERS, FindingError, type UpstreamGuard, type UpstreamGuardOptions } from '../../common/index.js';
import type { AgentOutput, InvokeOptions } from '../agent.js';
import { ToolDeniedError, type ToolResult } from '../toolbox.js';
import type { InvocationPayload } from './agentcore-server.js';

/**
 * Both sides of one invocation of an agent runtime, shared by every dispatcher (AgentCore's
 * InvokeAgentRuntime and local agent processes), so they build and check invocations alike.
 */
const AgentAnswer = z.object({
  agent: z.string(),
  tenantId: z.string(),
  manifestDigest: z.string(),
  producedBy: z.union([
    z.object({ model: z.string() }),
    z.object({ strategy: z.literal('rules'), fallbackFrom: z.object({ model: z.string(), reason: z.string() }).optional() }),
  ]),
  output: z.unknown(),
  usage: z.object({ modelCalls: z.number(), inputTokens: z.number(), outputTokens: z.number(), toolCalls: z.number() }),
  warnings: z.array(z.string()),
});

/**
 * Invocations of an agent runtime (AgentCore or an agent process), keyed by runtime: a node may
 * run a model loop (2 min bound) and a 200-supplier fan-out, so the deadline is 5 min; three
 * failures in a row open the runtime's breaker for 30 s.
 */
export const DEFAULT_AGENT_RUNTIME_GUARD: UpstreamGuardOptions = {
  maxConcurrent: 256,
  timeoutMs: 300_000,
  failureThreshold: 3,
  openMs: 30_000,
};

let runtimeGuard: UpstreamGuard | undefined;

/** The process's breaker on agent runtimes (`agent-runtime`). */
export function defaultAgentRuntimeGuard(): UpstreamGuard {
  return (runtimeGuard ??= BREAKERS.guard('agent-runtime', DEFAULT_AGENT_RUNTIME_GUARD));
}

export interface RuntimeInvocation {
  /** The runtime session: one per (tenant, negotiation, agent), so session state never spans tenants. */
  sessionId: string;
  payload: InvocationPayload;
}

export function runtimeInvocation(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): RuntimeInvocation {
  // AgentCore session ids must be 33+ characters.
  const sessionId = `${tenantId}.${opts.negotiationId ?? 'adhoc'}.${agent}`.padEnd(33, '.');
  const payload: InvocationPayload = {
    tenantId,
    input,
    ...(opts.negotiationId ? { negotiationId: opts.negotiationId } : {}),
    ...(opts.traceId ? { traceId: opts.traceId } : {}),
  };
  return { sessionId, payload };
}

/**
 * A tool call the gateway refused inside the runtime. It is the agent's answer, not a failure
 * (200, `{ error, refusedTool }`): a non-2xx body does not survive every path (AgentCore's
 * service turns a runtime's error into its own exception), and the orchestrator must see the
 * refusal to route the negotiation to a human.
 */
const RefusalAnswer = z.object({
  error: z.string(),
  refusedTool: z.object({
    tool: z.string(),
    result: z.object({
      decision: z
        .object({ outcome: z.string(), decision: z.enum(['allow', 'deny']), recordId: z.string(), reasons: z.array(z.string()) })
        .passthrough()
        .optional(),
      value: z.unknown(),
      isError: z.boolean(),
      error: z.string().optional(),
    }),
  }),
});

/** The answer the runtime sends for a refused tool call (see RefusalAnswer). */
export function refusalAnswer(err: ToolDeniedError): { error: string; refusedTool: { tool: string; result: ToolResult } } {
  return { error: err.message, refusedTool: { tool: err.tool, result: err.result } };
}

/**
 * Checks a runtime's 2xx answer like any untrusted input: its shape, and that it answers for
 * the agent and tenant invoked; a refusal answer is thrown as the ToolDeniedError the agent
 * raised, as in process. `where` names the runtime in errors (e.g. "on AgentCore"); with
 * `manifestDigest`, the answer must also name that manifest.
 */
export function parseAgentAnswer(agent: string, tenantId: string, text: string, where: string, manifestDigest?: string): AgentOutput {
  let parsed;
  try {
    const json: unknown = JSON.parse(text);
    const refusal = RefusalAnswer.safeParse(json);
    if (refusal.success) throw new ToolDeniedError(refusal.data.refusedTool.tool, refusal.data.refusedTool.result as ToolResult);
    parsed = AgentAnswer.parse(json);
  } catch (err) {
    if (err instanceof ToolDeniedError) throw err;
    throw new FindingError(`agent ${agent} ${where} answered malformed output: ${(err as Error).message.slice(0, 200)}`);
  }
  if (parsed.tenantId !== tenantId || parsed.agent !== agent)
    throw new FindingError(`agent ${agent} ${where} answered for ${parsed.agent}/${parsed.tenantId}, not ${agent}/${tenantId}`);
  if (manifestDigest !== undefined && parsed.manifestDigest !== manifestDigest)
    throw new FindingError(`agent ${agent} ${where} runs manifest ${parsed.manifestDigest}, the gateway enforces ${manifestDigest}`);
  return parsed as AgentOutput;
}

/**
 * What the platform attaches to one invocation of an agent runtime: the request headers (the
 * identity token and the signed invocation envelope) and the manifest digest the answer must
 * name. The orchestrator's InvocationCredentials implements it for every dispatcher.
 */
export interface InvocationAuth {
  sign(agent: string, tenantId: string, payload: InvocationPayload): Promise<{ headers: Record<string, string>; manifestDigest: string }>;
}

/** The error a runtime's non-2xx answer stands for: a FindingError naming the agent, the status and the runtime's message. */
export function agentAnswerError(agent: string, status: number, text: string, where: string): Error {
  let message: string | undefined;
  try {
    message = z.object({ error: z.string() }).parse(JSON.parse(text)).error;
  } catch {
    message = undefined;
  }
  return new FindingError(`agent ${agent} ${where} failed (HTTP ${status}): ${message ?? text.slice(0, 200)}`);
}
