import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { serveStatelessMcp, SHARED_SCHEMA_VALIDATOR } from '../../gateway/index.js';

export interface ReceivedCall {
  tool: string;
  args: Record<string, unknown>;
}

export interface ToolServer {
  url: string;
  /** Every call that reached this upstream, in order: what the gateway let through. */
  received: ReceivedCall[];
  close(): Promise<void>;
}

/**
 * An upstream MCP tool server (Streamable HTTP, stateless, loopback) standing in for a
 * supplier system: each tool answers with what it was asked. `delayMsFor(args)` makes it slow
 * for chosen calls (e.g. one tenant), to exercise per-tenant breakers.
 */
export async function startToolServer(
  tools: string[],
  delayMsFor: (args: Record<string, unknown>) => number = () => 0,
): Promise<ToolServer> {
  const received: ReceivedCall[] = [];
  const http = await serveStatelessMcp(async () => {
    const server = new Server(
      { name: 'procurement-tools', version: '1.0.0' },
      { capabilities: { tools: {} }, jsonSchemaValidator: SHARED_SCHEMA_VALIDATOR },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: tools.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (req) => {
      const args = req.params.arguments ?? {};
      received.push({ tool: req.params.name, args });
      const delay = delayMsFor(args);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      return { content: [{ type: 'text' as const, text: JSON.stringify({ ok: true, tool: req.params.name, args }) }] };
    });
    return server;
  });
  return { url: http.url, received, close: http.close };
}
