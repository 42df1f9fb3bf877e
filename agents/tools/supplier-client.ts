import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { guardedToolCall, mcpHttpTransport, UpstreamGuard } from '../../gateway/index.js';
import { toolValue } from '../mcp-channel.js';
import type { QuoteArgs } from '../suppliers/simulated-suppliers.js';

export interface SupplierClientOptions {
  /** A supplier slower than this is marked unreachable for the round. */
  timeoutMs: number;
  /** Consecutive failures before a supplier's breaker opens (per tenant and supplier). */
  failureThreshold: number;
  openMs: number;
  /** MCP connections to the supplier server, used in turn (one transport per connection). */
  connections?: number;
}

export const DEFAULT_SUPPLIER_CLIENT: SupplierClientOptions = { timeoutMs: 2_000, failureThreshold: 3, openMs: 60_000, connections: 8 };

/**
 * The supplier side of the quote tools: an MCP client per supplier server URL, each call under
 * a breaker keyed by tenant and supplier (seed 000: a slow supplier for tenant A trips only
 * that supplier's breaker, and never back-pressures tenant B). Calls are spread over a few
 * connections: every request in flight on one MCP transport hangs a listener on that
 * transport's abort signal, and a 200-way fan-out per negotiation would pile up thousands.
 */
export class SupplierClient {
  private readonly clients: Array<Promise<Client> | undefined>;
  private next = 0;
  private readonly guard: UpstreamGuard;

  constructor(
    private readonly url: string,
    opts: SupplierClientOptions = DEFAULT_SUPPLIER_CLIENT,
  ) {
    this.guard = new UpstreamGuard({ maxConcurrent: 1_000, timeoutMs: opts.timeoutMs, failureThreshold: opts.failureThreshold, openMs: opts.openMs });
    this.clients = new Array<undefined>(Math.max(1, opts.connections ?? 8)).fill(undefined);
  }

  async quote(tenantId: string, args: QuoteArgs): Promise<unknown> {
    const result = await guardedToolCall(this.guard, `${tenantId}|${args.supplierId}`, () => this.connect(), { name: 'quote', arguments: { ...args } });
    const value = toolValue(result);
    if (result.isError) throw new Error(typeof value === 'string' ? value : 'supplier error');
    return value;
  }

  async close(): Promise<void> {
    const open = this.clients.filter((c): c is Promise<Client> => c !== undefined);
    this.clients.fill(undefined);
    await Promise.allSettled(open.map(async (c) => (await c).close()));
  }

  private connect(): Promise<Client> {
    const slot = this.next++ % this.clients.length;
    let pending = this.clients[slot];
    if (!pending) {
      const client = new Client({ name: 'charter-procurement-tools', version: '0.1.0' });
      pending = client.connect(mcpHttpTransport(this.url)).then(() => client);
      this.clients[slot] = pending;
      // A failed connect is not kept: the next call on this slot tries again.
      pending.catch(() => (this.clients[slot] = undefined));
    }
    return pending;
  }
}
