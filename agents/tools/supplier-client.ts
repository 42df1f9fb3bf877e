import { SpanKind } from '@opentelemetry/api';
import { ATTR, BREAKERS, inSpan, type UpstreamGuard } from '../../common/index.js';
import { guardedToolCall, LazyMcpClient } from '../../gateway/index.js';
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
 * The supplier side of the quote tools: one MCP connection to the supplier server, each call
 * under a breaker keyed by tenant and supplier (seed 000: a slow supplier for tenant A trips
 * only that supplier's breaker, and never back-pressures tenant B).
 */
export class SupplierClient {
  private readonly client: LazyMcpClient;
  private readonly guard: UpstreamGuard;

  constructor(url: string, opts: SupplierClientOptions = DEFAULT_SUPPLIER_CLIENT) {
    this.guard = BREAKERS.guard(
      'suppliers',
      { maxConcurrent: 1_000, timeoutMs: opts.timeoutMs, failureThreshold: opts.failureThreshold, openMs: opts.openMs },
      { tenantKeyed: true },
    );
    this.client = new LazyMcpClient(url, 'charter-procurement-tools');
  }

  /** One supplier's quote: a span of the fan-out under the tool call (the API's no-op span when tracing is off). */
  quote(tenantId: string, args: QuoteArgs): Promise<unknown> {
    return inSpan(
      'supplier.quote',
      { [ATTR.tenant]: tenantId, 'charter.supplier': args.supplierId, [ATTR.negotiation]: args.negotiationId, 'charter.round': args.round },
      () => this.call(tenantId, args),
      { kind: SpanKind.CLIENT },
    );
  }

  private async call(tenantId: string, args: QuoteArgs): Promise<unknown> {
    const result = await guardedToolCall(
      this.guard,
      `${tenantId}|${args.supplierId}`,
      () => this.client.get(),
      { name: 'quote', arguments: { ...args } },
      {
        // A quote carries its idempotency key: asked twice, the supplier answers with the same bid.
        idempotent: true,
      },
    );
    const value = toolValue(result);
    if (result.isError) throw new Error(typeof value === 'string' ? value : 'supplier error');
    return value;
  }

  close(): Promise<void> {
    BREAKERS.release(this.guard);
    return this.client.close();
  }
}
