import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { errorMessage, listenLoopback } from '../common/index.js';

export interface LoopbackMcp {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  close(): Promise<void>;
}

/** Thrown by `open` to answer an HTTP request without MCP (e.g. 401 for a missing token). */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message }, id: null }));
}

/**
 * Serves MCP over Streamable HTTP on loopback, stateless: every POST to /mcp gets a fresh
 * server from `open(req)` (which may authenticate the request first) and its own transport,
 * both closed when the response ends. Used by the gateway and by local upstream tool servers.
 */
export async function serveStatelessMcp(open: (req: IncomingMessage) => Promise<Server>, port = 0): Promise<LoopbackMcp> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') return refuse(res, 404, 'not found: the MCP endpoint is /mcp');
    if (req.method !== 'POST') return refuse(res, 405, 'stateless MCP endpoint: POST only');
    let server: Server;
    try {
      server = await open(req);
    } catch (err) {
      if (err instanceof HttpRefusal) return refuse(res, err.status, err.message);
      throw err;
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) refuse(res, 500, errorMessage(err));
    });
  });
  const listening = await listenLoopback(http, port);
  return { url: `${listening.url}/mcp`, close: listening.close };
}
