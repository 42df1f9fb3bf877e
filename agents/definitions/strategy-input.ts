import { z } from 'zod';
import { entityRef, QuoteRound, Supplier, type QuotedBid } from '../procurement.js';
import type { AgentContext } from '../agent.js';

/** What the orchestrator hands a node-4 agent: the negotiation; the rest is read through tools from state. */
export const StrategyInput = z.strictObject({ negotiationId: z.string().min(1) });
export type StrategyInput = z.infer<typeof StrategyInput>;

export interface StrategyOutput {
  bids: QuotedBid[];
  unreachable: QuoteRound['unreachable'];
  rounds: number;
  rationale: string;
  /** Strategy-specific figures (TCO, partnership scores, price per round). */
  analysis: Record<string, unknown>;
}

/** A tool answer is untrusted input like any other: parse it or fail naming the tool. */
export function parseAnswer<T>(schema: z.ZodType<T>, tool: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${tool} answered malformed data: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export const NegotiationAnswer = z.object({ status: z.string(), quadrant: z.string(), budgetCents: z.number(), round: z.number().int() });

/** The negotiation's tenant-qualified id, as tool arguments carry it. */
export function negotiationRef(ctx: AgentContext, negotiationId: string): string {
  return entityRef(ctx.tenantId, negotiationId);
}

/** A supplier as the tools answer it: the id is tenant-qualified. */
export const SupplierProfile = Supplier.extend({ supplierId: z.string().min(1) });
export type SupplierProfile = z.infer<typeof SupplierProfile>;

export async function eligibleSuppliers(ctx: AgentContext, ref: string): Promise<SupplierProfile[]> {
  return parseAnswer(
    z.object({ suppliers: z.array(SupplierProfile) }),
    'list_eligible_suppliers',
    await ctx.tools.call('list_eligible_suppliers', { negotiationId: ref }),
  ).suppliers;
}

export async function readBids(ctx: AgentContext, ref: string, round?: number): Promise<QuoteRound> {
  return parseAnswer(
    QuoteRound,
    'get_bids',
    await ctx.tools.call('get_bids', { negotiationId: ref, ...(round !== undefined ? { round } : {}) }),
  );
}

/** Zero bids is the seed's REQUIRES_ATTENTION trigger 1: the agent flags it through its tool. */
export async function flagZeroBids(ctx: AgentContext, ref: string, message: string): Promise<void> {
  await ctx.tools.call('flag_requires_attention', { negotiationId: ref, reason: 'zero_bids', message });
}

export function lowestTotal(bids: readonly QuotedBid[]): number | undefined {
  return bids.length ? Math.min(...bids.map((b) => b.priceCents)) : undefined;
}
