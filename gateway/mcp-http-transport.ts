import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * The SDK gives every request of a transport the transport's own abort signal, and undici
 * keeps one listener per Request on it until that Request is garbage-collected: a long-lived
 * connection carrying thousands of calls piles up past Node's 1,500-listener warning. Each
 * request gets a signal that follows the transport's instead (`AbortSignal.any` holds its
 * dependents weakly, with no listener on the source), so closing the transport still cancels
 * what is in flight.
 */
const ownSignalFetch: FetchLike = (url, init) => fetch(url, init?.signal ? { ...init, signal: AbortSignal.any([init.signal]) } : init);

/** A Streamable HTTP MCP client transport for a connection that carries many calls. */
export function mcpHttpTransport(url: string, requestInit?: RequestInit): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(url), { fetch: ownSignalFetch, ...(requestInit ? { requestInit } : {}) });
}
