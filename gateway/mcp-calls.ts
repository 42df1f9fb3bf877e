import type { IncomingMessage } from 'node:http';
import { CallToolRequestSchema, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { formatFieldPath, readBoundedBody } from '../common/index.js';

/** Largest MCP request body the gateway reads; a larger one is refused, and recorded, unread. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** A tool call an MCP request carries, as far as it could be read; `problem` keeps it from a decision. */
export interface CarriedCall {
  /** The JSON-RPC request id, when the message had one. */
  id?: string | number;
  tool: string;
  args: unknown;
  problem?: string;
}

/** An MCP request body read and parsed, or the one call it stands for when it could not be (too large, not JSON). */
export type McpBody = { ok: true; body: unknown } | { ok: false; status: number; code: number; call: CarriedCall };

/** Reads and parses an MCP request body within MAX_REQUEST_BYTES. */
export async function readMcpBody(req: IncomingMessage): Promise<McpBody> {
  const read = await readBoundedBody(req, MAX_REQUEST_BYTES);
  if (read.tooLarge)
    return {
      ok: false,
      status: 413,
      code: -32600,
      call: unread(`the request body exceeds ${MAX_REQUEST_BYTES} bytes (MAX_REQUEST_BYTES)`),
    };
  try {
    return { ok: true, body: JSON.parse(read.text) };
  } catch {
    return { ok: false, status: 400, code: -32700, call: unread('the request body is not JSON') };
  }
}

/**
 * The tool calls a parsed MCP body carries (one message or a batch): every `tools/call`
 * request, and every message that is not JSON-RPC at all (it may have meant to be one). A
 * call the MCP SDK would refuse before the gateway's handler sees it (not JSON-RPC, a
 * `tools/call` whose params do not fit) gets its problem, checked with the SDK's own schemas.
 * Other valid messages (initialize, tools/list, notifications) are not calls.
 */
export function carriedCalls(body: unknown): CarriedCall[] {
  const messages = Array.isArray(body) ? body : [body];
  if (messages.length === 0) return [unread('an empty JSON-RPC batch')];
  const calls: CarriedCall[] = [];
  for (const message of messages) {
    const rpc = JSONRPCMessageSchema.safeParse(message);
    if (!rpc.success) calls.push({ ...asCall(message), problem: `not a JSON-RPC 2.0 message (${firstIssue(rpc.error)})` });
    else if ((message as { method?: unknown }).method === 'tools/call') {
      const call = CallToolRequestSchema.safeParse(message);
      calls.push(call.success ? asCall(message) : { ...asCall(message), problem: `malformed tools/call (${firstIssue(call.error)})` });
    }
  }
  return calls;
}

function unread(problem: string): CarriedCall {
  return { tool: '', args: undefined, problem };
}

/** What a message says its tool, arguments and id are, without trusting its shape. */
function asCall(message: unknown): CarriedCall {
  const m = (typeof message === 'object' && message !== null ? message : {}) as { id?: unknown; params?: unknown };
  const params = (typeof m.params === 'object' && m.params !== null ? m.params : {}) as { name?: unknown; arguments?: unknown };
  return {
    ...(typeof m.id === 'string' || typeof m.id === 'number' ? { id: m.id } : {}),
    tool: typeof params.name === 'string' ? params.name : '',
    args: params.arguments,
  };
}

function firstIssue(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return issue ? `${formatFieldPath(issue.path) || 'message'}: ${issue.message}` : 'invalid';
}
