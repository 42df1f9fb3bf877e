import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { errorMessage, listenLoopback } from '../common/index.js';

/**
 * The SDK gives every Server its own Ajv unless told otherwise, about 1.4 ms a construction:
 * over stateless HTTP that is a Server, so a request. Servers built per request pass this one
 * (`jsonSchemaValidator`).
 */
export const SHARED_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

export interface LoopbackMcp {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  close(): Promise<void>;
}

/**
 * Thrown by `open` to answer an HTTP request without MCP (e.g. 401 for a missing token), as a
 * JSON-RPC error (`code` default -32001, optional `data`).
 */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rpc: { code?: number; data?: unknown } = {},
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

function refuse(res: ServerResponse, status: number, message: string, rpc: HttpRefusal['rpc'] = {}): void {
  const error = { code: rpc.code ?? -32001, message, ...(rpc.data !== undefined ? { data: rpc.data } : {}) };
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error, id: null }));
}

/**
 * What `open` hands over besides the server: the request body when it already read and parsed
 * it, and `settle`, run once the transport has answered (e.g. to account for calls the
 * transport refused before they reached the server).
 */
export interface OpenedMcp {
  server: Server;
  parsedBody?: unknown;
  settle?: (status: number) => Promise<void>;
}

/**
 * Serves MCP over Streamable HTTP on loopback, stateless: every POST to /mcp gets a fresh
 * server from `open(req)` (which may authenticate the request first) and its own transport,
 * both closed when the response ends. Used by the gateway and by local upstream tool servers.
 */
export async function serveStatelessMcp(open: (req: IncomingMessage) => Promise<Server | OpenedMcp>, port = 0): Promise<LoopbackMcp> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') return refuse(res, 404, 'not found: the MCP endpoint is /mcp');
    if (req.method !== 'POST') return refuse(res, 405, 'stateless MCP endpoint: POST only');
    let opened: OpenedMcp;
    try {
      const o = await open(req);
      opened = o instanceof Server ? { server: o } : o;
    } catch (err) {
      if (err instanceof HttpRefusal) return refuse(res, err.status, err.message, err.rpc);
      throw err;
    }
    const { server } = opened;
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res, opened.parsedBody);
    await opened.settle?.(res.statusCode);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) refuse(res, 500, errorMessage(err));
    });
  });
  const listening = await listenLoopback(http, port);
  return { url: `${listening.url}/mcp`, close: listening.close };
}
