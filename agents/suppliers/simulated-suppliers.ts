import { z } from 'zod';
import type { Listening } from '../../common/index.js';
import { serveMcpTools, tool } from '../mcp-tool-server.js';
import { RequisitionLine, Supplier, type QuotedBid } from '../procurement.js';

/**
 * Simulated suppliers behind a local MCP server: each quotes after its own latency, may fail
 * (error, never answer, decline), and answers the same idempotency key with the same bid, as
 * a real supplier system with idempotent order intake would.
 */
export const SimulatedSupplier = Supplier.extend({
  latencyMs: z.number().int().nonnegative().default(20),
  fault: z.enum(['none', 'error', 'hang', 'decline']).default('none'),
  /** Opening quote as a share of the buyer's target price. */
  priceFactor: z.number().positive().default(1),
  /** The lowest share of the target the supplier will go to in later rounds. */
  floorFactor: z.number().positive().default(0.85),
});
export type SimulatedSupplier = z.infer<typeof SimulatedSupplier>;
export type SimulatedSupplierInput = z.input<typeof SimulatedSupplier>;

export const QuoteArgs = z.strictObject({
  supplierId: z.string().min(1),
  negotiationId: z.string().min(1),
  idempotencyKey: z.string().min(1),
  round: z.number().int().positive(),
  lines: z.array(RequisitionLine).min(1),
  targetTotalCents: z.number().int().positive().optional(),
});
export type QuoteArgs = z.infer<typeof QuoteArgs>;

/** Each later round concedes this much of the opening price, down to the floor. */
const CONCESSION_PER_ROUND = 0.03;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SupplierNetwork {
  private readonly suppliers = new Map<string, SimulatedSupplier>();
  private readonly quotes = new Map<string, QuotedBid>();
  /** Calls received, including repeats of an idempotency key. */
  solicitations = 0;

  constructor(suppliers: readonly SimulatedSupplierInput[]) {
    for (const s of suppliers) {
      const parsed = SimulatedSupplier.parse(s);
      this.suppliers.set(parsed.supplierId, parsed);
    }
  }

  /** Distinct bids issued (one per idempotency key). */
  bidsIssued(): QuotedBid[] {
    return [...this.quotes.values()];
  }

  async quote(args: QuoteArgs): Promise<QuotedBid | { declined: true; supplierId: string }> {
    this.solicitations++;
    const s = this.suppliers.get(args.supplierId);
    if (!s) throw new Error(`unknown supplier ${args.supplierId}`);
    await sleep(s.latencyMs);
    if (s.fault === 'error') throw new Error(`supplier ${s.supplierId} system error`);
    if (s.fault === 'hang') await new Promise(() => undefined);
    if (s.fault === 'decline') return { declined: true, supplierId: s.supplierId };
    const known = this.quotes.get(args.idempotencyKey);
    if (known) return known;
    const factor = Math.max(s.floorFactor, s.priceFactor * (1 - CONCESSION_PER_ROUND * (args.round - 1)));
    let lines = args.lines.map((l) => ({ lineId: l.lineId, unitPriceCents: Math.max(1, Math.round(l.targetUnitPriceCents * factor)) }));
    const total = (ls: typeof lines) => ls.reduce((sum, l, i) => sum + l.unitPriceCents * args.lines[i]!.quantity, 0);
    if (args.targetTotalCents !== undefined && total(lines) > args.targetTotalCents) {
      // Meet an auction target when it is above the floor, else quote the floor.
      const floor = args.lines.map((l) => Math.max(1, Math.round(l.targetUnitPriceCents * s.floorFactor)));
      const scale = Math.max(
        args.targetTotalCents / total(lines),
        total(floor.map((u) => ({ lineId: '', unitPriceCents: u }))) / total(lines),
      );
      lines = lines.map((l) => ({ lineId: l.lineId, unitPriceCents: Math.max(1, Math.round(l.unitPriceCents * scale)) }));
    }
    const bid: QuotedBid = {
      bidId: `${s.supplierId}-${args.negotiationId}-r${args.round}`,
      supplierId: s.supplierId,
      priceCents: total(lines),
      deliveryDays: s.deliveryDays,
      qualityScore: s.qualityScore,
      riskScore: s.riskScore,
      certifications: s.certifications,
      round: args.round,
      lines,
    };
    this.quotes.set(args.idempotencyKey, bid);
    return bid;
  }

  /** Serves the network over MCP: `quote`, and `stats` (what the suppliers saw, for tests across processes). */
  serve(port = 0): Promise<Listening> {
    return serveMcpTools(
      'simulated-suppliers',
      {
        quote: tool({
          description: 'Ask one supplier for a quote on the requisition lines (idempotent per key).',
          args: QuoteArgs,
          run: (a) => this.quote(a),
        }),
        stats: tool({
          description: 'Solicitations received and bids issued, per negotiation.',
          args: z.object({ negotiationId: z.string().optional() }),
          run: async (a) => {
            const bids = this.bidsIssued().filter((b) => !a.negotiationId || b.bidId.includes(a.negotiationId));
            return {
              solicitations: this.solicitations,
              bids: bids.map((b) => ({ supplierId: b.supplierId, round: b.round, priceCents: b.priceCents })),
            };
          },
        }),
      },
      port,
    );
  }
}
