import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { errorMessage, formatFieldPath } from '../common/index.js';

/** One tool of a local MCP server: zod-checked arguments in, a JSON-able value out. */
export interface ToolHandler<A = unknown> {
  description: string;
  args: z.ZodType<A>;
  run(args: A): Promise<unknown>;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

// Handlers are stored type-erased; each validates its own arguments before running.
export type ToolTable = Record<string, ToolHandler<never>>;

export function tool<A>(h: ToolHandler<A>): ToolHandler<never> {
  return h as unknown as ToolHandler<never>;
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
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const h = tools[req.params.name];
    if (!h) return { isError: true, content: [{ type: 'text', text: `unknown tool '${req.params.name}'` }] };
    const parsed = (h.args as z.ZodType).safeParse(req.params.arguments ?? {});
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
  });
  return server;
}

/**
 * Serves a tool table as a stateless Streamable HTTP MCP server on loopback (`/mcp`), the
 * shape of the upstream tool servers the gateway forwards allowed calls to.
 */
export async function serveMcpTools(name: string, tools: ToolTable, port = 0): Promise<RunningServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp' || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"POST /mcp only"}');
      return;
    }
    const server = mcpServer(name, tools);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: errorMessage(err) }));
    });
  });
  // 200-way fan-outs open as many connections at once; the default backlog is enough, keep-alive reuses them.
  http.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, fail) => {
    http.once('error', fail);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
