import { Client } from '@modelcontextprotocol/sdk/client/index.js';
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

/**
 * An MCP client over Streamable HTTP, connected on first use and kept for every later call.
 * A failed connection is not kept: the next call tries again.
 */
export class LazyMcpClient {
  private pending: Promise<Client> | undefined;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly requestInit?: RequestInit,
  ) {}

  get(): Promise<Client> {
    if (!this.pending) {
      const client = new Client({ name: this.name, version: '0.1.0' });
      const transport = new StreamableHTTPClientTransport(new URL(this.url), {
        fetch: ownSignalFetch,
        ...(this.requestInit ? { requestInit: this.requestInit } : {}),
      });
      const pending = client.connect(transport).then(() => client);
      pending.catch(() => {
        if (this.pending === pending) this.pending = undefined;
      });
      this.pending = pending;
    }
    return this.pending;
  }

  /** Closes the connection if one was made (a no-op otherwise). */
  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close();
  }
}
