import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UpstreamGuard } from '../../gateway/index.js';
import { toolValue } from '../mcp-channel.js';
import type { QuoteArgs } from '../suppliers/simulated-suppliers.js';

export interface SupplierClientOptions {
  /** A supplier slower than this is marked unreachable for the round. */
  timeoutMs: number;
  /** Consecutive failures before a supplier's breaker opens (per tenant and supplier). */
  failureThreshold: number;
  openMs: number;
}

export const DEFAULT_SUPPLIER_CLIENT: SupplierClientOptions = { timeoutMs: 2_000, failureThreshold: 3, openMs: 60_000 };

/**
 * The supplier side of the quote tools: an MCP client per supplier server URL, each call under
 * a breaker keyed by tenant and supplier (seed 000: a slow supplier for tenant A trips only
 * that supplier's breaker, and never back-pressures tenant B).
 */
export class SupplierClient {
  private client: Promise<Client> | undefined;
  private readonly guard: UpstreamGuard;

  constructor(
    private readonly url: string,
    opts: SupplierClientOptions = DEFAULT_SUPPLIER_CLIENT,
  ) {
    this.guard = new UpstreamGuard({ maxConcurrent: 1_000, timeoutMs: opts.timeoutMs, failureThreshold: opts.failureThreshold, openMs: opts.openMs });
  }

  async quote(tenantId: string, args: QuoteArgs): Promise<unknown> {
    return this.guard.run(`${tenantId}|${args.supplierId}`, async (signal) => {
      const client = await this.connect();
      const result = (await client.callTool({ name: 'quote', arguments: args }, undefined, { signal })) as CallToolResult;
      const value = toolValue(result);
      if (result.isError) throw new Error(typeof value === 'string' ? value : 'supplier error');
      return value;
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await (await c).close();
  }

  private connect(): Promise<Client> {
    if (!this.client) {
      const client = new Client({ name: 'charter-procurement-tools', version: '0.1.0' });
      this.client = client.connect(new StreamableHTTPClientTransport(new URL(this.url))).then(() => client);
      // A failed connect is not cached: the next call tries again.
      this.client.catch(() => (this.client = undefined));
    }
    return this.client;
  }
}
