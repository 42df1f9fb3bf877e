import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolRequest,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { errorMessage, formatFieldPath, listenLoopback, type Listening } from '../common/index.js';

/** One tool of a local MCP server: zod-checked arguments in, a JSON-able value out. */
export interface ToolHandler<A = unknown> {
  description: string;
  args: z.ZodType<A>;
  run(args: A): Promise<unknown>;
}

// Handlers are stored type-erased; each validates its own arguments before running.
export type ToolTable = Record<string, ToolHandler<never>>;

export function tool<A>(h: ToolHandler<A>): ToolHandler<never> {
  return h as unknown as ToolHandler<never>;
}

/** Runs one tool of a table, as its MCP server answers a `tools/call`: arguments checked by the tool's zod schema first. */
async function runTool(tools: ToolTable, params: CallToolRequest['params']): Promise<CallToolResult> {
  const h = Object.hasOwn(tools, params.name) ? tools[params.name] : undefined;
  if (!h) return { isError: true, content: [{ type: 'text', text: `unknown tool '${params.name}'` }] };
  const parsed = (h.args as z.ZodType).safeParse(params.arguments ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { isError: true, content: [{ type: 'text', text: `args.${formatFieldPath(issue.path as PropertyKey[])}: ${issue.message}` }] };
  }
  try {
    const value = await h.run(parsed.data as never);
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: errorMessage(err) }] };
  }
}

function mcpServer(name: string, tools: ToolTable): Server {
  const server = new Server({ name, version: '0.1.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: Object.entries(tools).map(([toolName, h]) => ({
      name: toolName,
      description: h.description,
      inputSchema: z.toJSONSchema(h.args as z.ZodType, { unrepresentable: 'any' }) as { type: 'object' },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, (req) => runTool(tools, req.params));
  return server;
}

/**
 * A tool table for a caller in this process (the gateway's `LocalUpstream`): the same handling as
 * its MCP server, without a loopback HTTP hop. Results cross as data, as they would over the
 * wire: the caller never holds the tool's own objects.
 */
export function inProcessTools(
  name: string,
  tools: ToolTable,
): { name: string; callTool(params: CallToolRequest['params']): Promise<CallToolResult> } {
  return { name, callTool: async (params) => JSON.parse(JSON.stringify(await runTool(tools, params))) as CallToolResult };
}

/**
 * Serves a tool table as a Streamable HTTP MCP server on loopback (`/mcp`), the shape of the
 * upstream tool servers the gateway forwards allowed calls to. Sessions are kept (one MCP
 * server per client session, created by its initialize request): building a server per
 * request costs more than the call itself at a 200-way fan-out.
 */
export async function serveMcpTools(name: string, tools: ToolTable, port = 0): Promise<Listening> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"the MCP endpoint is /mcp"}');
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    const known = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (known) return known.handleRequest(req, res);
    if (sessionId !== undefined) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'unknown session' }, id: null }));
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await mcpServer(name, tools).connect(transport);
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: errorMessage(err) }));
    });
  });
  const listening = await listenLoopback(http, port);
  return {
    url: `${listening.url}/mcp`,
    close: async () => {
      await Promise.allSettled([...sessions.values()].map((t) => t.close()));
      await listening.close();
    },
  };
}
