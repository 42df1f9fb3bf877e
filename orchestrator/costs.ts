import { MICROS, prorate, type PriceTable } from './prices.js';
import type { CostRow, NegotiationStore } from './store.js';

export const COST_DIMENSIONS = ['tenant', 'agent', 'model', 'negotiation', 'month'] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

/** One line of a cost report: the usage and amount of every booked row that shares its key. */
export interface CostLine {
  /** The values of the grouping dimensions (all five when the report is not grouped). */
  key: Partial<Record<CostDimension, string>>;
  invocations: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  /** Millionths of the currency: model calls plus the orchestrator's prorated share. */
  costMicros: number;
  /** Model calls booked without a price (no entry in the table, or before it was valid): not in costMicros. */
  unpricedModelCalls: number;
}

export interface CostReport {
  currency: string | null;
  /** The date the price table was valid from. */
  pricesValidFrom: string | null;
  lines: CostLine[];
  total: CostLine;
}

const ORCHESTRATOR = 'orchestrator';

/**
 * The orchestrator's running cost of each month (`orchestrator.perMonth`) shared out over the
 * month's orchestrator rows in proportion to the steps (checkpoints) each negotiation ran, over
 * every tenant of the month whatever the report's filter, so a tenant's share does not depend on
 * who else is in the report.
 */
function withOrchestratorShare(rows: CostRow[], table: PriceTable | undefined): CostRow[] {
  const perMonth = Math.round((table?.orchestrator.perMonth ?? 0) * MICROS);
  const byMonth = new Map<string, CostRow[]>();
  for (const r of rows) if (r.agent === ORCHESTRATOR) byMonth.set(r.month, [...(byMonth.get(r.month) ?? []), r]);
  const share = new Map<CostRow, number>();
  for (const group of byMonth.values()) {
    const shares = prorate(
      perMonth,
      group.map((r) => r.invocations),
    );
    group.forEach((r, i) => share.set(r, shares[i]!));
  }
  return rows.map((r) => (share.has(r) ? { ...r, costMicros: (r.costMicros ?? 0) + share.get(r)! } : r));
}

function keyOf(r: CostRow, by: readonly CostDimension[]): Partial<Record<CostDimension, string>> {
  const all: Record<CostDimension, string> = {
    tenant: r.tenantId,
    agent: r.agent,
    model: r.model,
    negotiation: r.negotiationId,
    month: r.month,
  };
  return Object.fromEntries(by.map((d) => [d, all[d]]));
}

function emptyLine(key: CostLine['key']): CostLine {
  return { key, invocations: 0, modelCalls: 0, inputTokens: 0, outputTokens: 0, toolCalls: 0, costMicros: 0, unpricedModelCalls: 0 };
}

function add(line: CostLine, r: CostRow): void {
  line.invocations += r.invocations;
  line.modelCalls += r.modelCalls;
  line.inputTokens += r.inputTokens;
  line.outputTokens += r.outputTokens;
  line.toolCalls += r.toolCalls;
  if (r.costMicros === null) line.unpricedModelCalls += r.modelCalls;
  else line.costMicros += r.costMicros;
}

/**
 * Cost in money from the booked usage: per tenant, agent, model, negotiation and month (`by`:
 * the dimensions to group by; none: one line per booked row). Amounts are exact integers of
 * micros, so the lines of any grouping add up to the same total.
 */
export function costReport(
  store: NegotiationStore,
  table: PriceTable | undefined,
  opts: { month?: string; tenantId?: string; by?: readonly CostDimension[] } = {},
): CostReport {
  const rows = withOrchestratorShare(store.costs(opts.month ? { month: opts.month } : {}), table).filter(
    (r) => !opts.tenantId || r.tenantId === opts.tenantId,
  );
  const by = opts.by?.length ? opts.by : COST_DIMENSIONS;
  const lines = new Map<string, CostLine>();
  const total = emptyLine({});
  for (const r of rows) {
    const key = keyOf(r, by);
    const id = JSON.stringify(key);
    let line = lines.get(id);
    if (!line) lines.set(id, (line = emptyLine(key)));
    add(line, r);
    add(total, r);
  }
  return {
    currency: table?.currency ?? null,
    pricesValidFrom: table?.validFrom ?? null,
    lines: [...lines.values()],
    total,
  };
}

/** An amount of micros as decimal text: at least cents, finer digits when there are any. */
export function formatMoney(micros: number): string {
  return (micros / MICROS).toFixed(6).replace(/0{1,4}$/, '');
}
