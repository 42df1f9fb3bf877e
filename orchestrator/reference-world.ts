import { StaticConfigStore, SupplierNetwork, type Requisition, type SimulatedSupplierInput, type Supplier } from '../agents/index.js';
import type { SupplierDirectory } from './orchestrator.js';

/**
 * A small procurement world for the demo, tests and benchmarks: tenants with their approved
 * suppliers (simulated behind an MCP server), tenant configuration, and requisitions that
 * cover the four Kraljic quadrants. Deterministic: the same arguments give the same world.
 */
export interface WorldOptions {
  tenants: string[];
  suppliersPerTenant?: number;
  /** Each supplier's quote latency. */
  latencyMs?: number;
  /** Spend threshold per tenant (default 50,000.00). */
  spendThresholdCents?: Record<string, number>;
  /** Admission slots per tenant (default reserved 2, max 10). */
  admission?: { reservedSlots: number; maxSlots: number; retryAfterSeconds?: number };
  /** Suppliers whose ids match get this fault (e.g. `{ "globex-s03": "error" }`). */
  faults?: Record<string, 'error' | 'hang' | 'decline'>;
}

export interface ReferenceWorld {
  network: SupplierNetwork;
  directory: SupplierDirectory;
  config: StaticConfigStore;
}

const REGIONS = ['eu-west', 'eu-central', 'us-east'];

/** One tenant's simulated suppliers: varied price, speed, quality and risk, two of three regions each. */
export function tenantSuppliers(
  tenantId: string,
  count: number,
  latencyMs: number,
  faults: WorldOptions['faults'] = {},
): SimulatedSupplierInput[] {
  return Array.from({ length: count }, (_, i) => {
    const supplierId = `${tenantId}-s${String(i + 1).padStart(2, '0')}`;
    const fault = faults[supplierId];
    return {
      supplierId,
      name: `${tenantId.toUpperCase()} Supplier ${i + 1}`,
      regions: [REGIONS[i % 3]!, REGIONS[(i + 1) % 3]!],
      deliveryDays: 3 + ((i * 5) % 12),
      qualityScore: 0.6 + ((i * 7) % 40) / 100,
      riskScore: 0.1 + ((i * 3) % 50) / 100,
      relationshipScore: 0.3 + ((i * 11) % 70) / 100,
      innovationScore: 0.3 + ((i * 13) % 70) / 100,
      certifications: i % 2 === 0 ? ['ISO9001'] : [],
      latencyMs,
      ...(fault ? { fault } : {}),
      priceFactor: 0.9 + ((i * 17) % 25) / 100,
      floorFactor: 0.82 + ((i * 7) % 8) / 100,
    };
  });
}

export function referenceWorld(opts: WorldOptions): ReferenceWorld {
  const byTenant = new Map<string, Supplier[]>();
  const all: SimulatedSupplierInput[] = [];
  for (const t of opts.tenants) {
    const sims = tenantSuppliers(t, opts.suppliersPerTenant ?? 8, opts.latencyMs ?? 20, opts.faults);
    all.push(...sims);
    byTenant.set(
      t,
      sims.map(({ latencyMs: _l, fault: _f, priceFactor: _p, floorFactor: _fl, ...s }) => ({
        relationshipScore: 0.5,
        innovationScore: 0.5,
        certifications: [],
        blocked: false,
        ...s,
      })),
    );
  }
  const admission = opts.admission ?? { reservedSlots: 2, maxSlots: 10 };
  const config = StaticConfigStore.of({
    defaults: { admission: { retryAfterSeconds: 5, ...admission } },
    tenants: Object.fromEntries(
      opts.tenants.map((t) => [t, { config: { limits: { spendThresholdCents: opts.spendThresholdCents?.[t] ?? 5_000_000 } } }]),
    ),
  });
  return { network: new SupplierNetwork(all), directory: { approvedSuppliers: (t) => byTenant.get(t) ?? [] }, config };
}

const CATEGORIES: Array<Requisition['category'] & { lines: Array<[string, number, number]> }> = [
  {
    categoryId: 'office-supplies',
    name: 'Office supplies',
    profitImpact: 0.2,
    supplyRisk: 0.2,
    lines: [
      ['Printer paper, A4 box', 40, 2_500],
      ['Toner cartridge', 10, 8_900],
    ],
  },
  {
    categoryId: 'steel-sheet',
    name: 'Cold-rolled steel sheet',
    profitImpact: 0.8,
    supplyRisk: 0.3,
    lines: [['Steel sheet 2 mm, tonne', 20, 95_000]],
  },
  {
    categoryId: 'rare-earth-magnets',
    name: 'Rare-earth magnets',
    profitImpact: 0.3,
    supplyRisk: 0.85,
    lines: [['NdFeB magnet N52, 1k pcs', 5, 120_000]],
  },
  {
    categoryId: 'ev-battery-cells',
    name: 'EV battery cells',
    profitImpact: 0.9,
    supplyRisk: 0.8,
    lines: [['Li-ion cell 21700, 10k pcs', 3, 450_000]],
  },
];

/**
 * The i-th requisition of a tenant: categories cycle through the four quadrants (Non-Critical,
 * Leverage, Bottleneck, Strategic); budgets leave room above the target price.
 */
export function sampleRequisition(tenantId: string, i: number, overrides: Partial<Requisition> = {}): Requisition {
  const cat = CATEGORIES[i % CATEGORIES.length]!;
  const lines = cat.lines.map(([description, quantity, targetUnitPriceCents], j) => ({
    lineId: `L${j + 1}`,
    description,
    quantity,
    targetUnitPriceCents,
  }));
  const target = lines.reduce((s, l) => s + l.quantity * l.targetUnitPriceCents, 0);
  return {
    negotiationId: `${tenantId}-n${String(i + 1).padStart(3, '0')}`,
    buyerName: `${tenantId.toUpperCase()} Procurement`,
    requestedBy: `buyer@${tenantId}.example`,
    category: { categoryId: cat.categoryId, name: cat.name, profitImpact: cat.profitImpact, supplyRisk: cat.supplyRisk },
    lines,
    deliveryRegion: REGIONS[i % 2]!,
    budgetCents: Math.round(target * 1.3),
    maxDeliveryDays: 14,
    currency: 'USD',
    ...overrides,
  };
}
