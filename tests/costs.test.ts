import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { parse } from 'yaml';
import { runCli } from '../audit/fixtures/cli.js';
import {
  costReport,
  formatMoney,
  modelCostMicros,
  NegotiationStore,
  PriceTableFile,
  prorate,
  type CostDimension,
  type CostReport,
  type PriceTable,
} from '../orchestrator/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const PRICES_YAML = `currency: EUR
validFrom: '2026-10-15'
models:
  amazon.nova-micro-v1:0: { inputPerMillionTokens: 0.035, outputPerMillionTokens: 0.14 }
  anthropic.claude-sonnet: { inputPerMillionTokens: 3, outputPerMillionTokens: 15 }
orchestrator: { perMonth: 100 }
`;

const TENANTS = ['acme', 'globex', 'initech'];
const AGENTS = ['kraljic-classifier', 'spot-bidding', 'bid-evaluation'];
const MODELS = ['amazon.nova-micro-v1:0', 'anthropic.claude-sonnet', 'rules', 'unpriced.model'];

/** A home's negotiation store with usage booked over three tenants, three agents, four models and two months. */
function bookedHome(table: PriceTable): { home: string; store: NegotiationStore } {
  const home = mkdtempSync(join(tmpdir(), 'charter-costs-'));
  dirs.push(home);
  mkdirSync(join(home, 'orchestrator'));
  writeFileSync(join(home, 'prices.yaml'), PRICES_YAML);
  const store = new NegotiationStore(join(home, 'orchestrator', 'negotiations.sqlite'));
  let i = 0;
  for (const [month, day] of [
    ['2026-10', '2026-10-20'],
    ['2026-11', '2026-11-03'],
  ] as const)
    TENANTS.forEach((tenantId, t) => {
      for (let n = 0; n <= t; n++) {
        const negotiationId = `${tenantId}-${month}-n${n}`;
        // Uneven step counts, so the orchestrator's share has remainders to place.
        store.addCost({
          ...zero(tenantId, negotiationId, month),
          agent: 'orchestrator',
          model: '-',
          invocations: 3 + ((n + t) % 4),
          costMicros: 0,
        });
        AGENTS.forEach((agent, a) => {
          const model = MODELS[(i++ + a) % MODELS.length]!;
          const usage = {
            modelCalls: model === 'rules' ? 0 : 1 + a,
            inputTokens: model === 'rules' ? 0 : 1_234 * (n + 1),
            outputTokens: model === 'rules' ? 0 : 321 + t,
          };
          store.addCost({
            ...zero(tenantId, negotiationId, month),
            agent,
            model,
            invocations: 1,
            ...usage,
            toolCalls: 2,
            costMicros: modelCostMicros(table, model, day, usage),
          });
        });
      }
    });
  return { home, store };
}

function zero(tenantId: string, negotiationId: string, month: string) {
  return {
    tenantId,
    negotiationId,
    month,
    agent: '',
    model: '',
    invocations: 0,
    modelCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    toolCalls: 0,
    costMicros: 0,
  };
}

const sum = (r: CostReport, f: 'costMicros' | 'modelCalls' | 'unpricedModelCalls') => r.lines.reduce((s, l) => s + l[f], 0);

describe('cost in money', () => {
  const table = PriceTableFile.parse(parse(PRICES_YAML));

  it('prices tokens per model from the date the table is valid, leaves unknown models and earlier days unpriced', () => {
    const usage = { modelCalls: 2, inputTokens: 1_000_000, outputTokens: 500_000 };
    expect(modelCostMicros(table, 'anthropic.claude-sonnet', '2026-11-01', usage)).toBe(3_000_000 + 7_500_000);
    expect(modelCostMicros(table, 'anthropic.claude-sonnet', '2026-10-14', usage)).toBeNull();
    expect(modelCostMicros(table, 'unpriced.model', '2026-11-01', usage)).toBeNull();
    expect(modelCostMicros(table, 'rules', '2026-11-01', { modelCalls: 0, inputTokens: 0, outputTokens: 0 })).toBe(0);
    expect(prorate(100, [1, 1, 1])).toEqual([34, 33, 33]);
  });

  it('adds up across tenants, agents, models and negotiations, with the orchestrator prorated to the micro', () => {
    const { store } = bookedHome(table);
    try {
      for (const month of ['2026-10', '2026-11']) {
        const report = (by: CostDimension[]) => costReport(store, table, { month, by });
        const all = report([]);
        // The orchestrator's month is shared out whole, and every model call is priced or counted as unpriced.
        expect(report(['agent']).lines.find((l) => l.key.agent === 'orchestrator')?.costMicros).toBe(100_000_000);
        expect(all.total.unpricedModelCalls).toBeGreaterThan(0);
        expect(all.total.costMicros).toBeGreaterThan(100_000_000);
        for (const by of [
          ['tenant'],
          ['agent'],
          ['model'],
          ['negotiation'],
          ['tenant', 'agent'],
          ['tenant', 'model'],
        ] as CostDimension[][]) {
          const r = report(by);
          expect(sum(r, 'costMicros'), by.join()).toBe(all.total.costMicros);
          expect(sum(r, 'modelCalls'), by.join()).toBe(all.total.modelCalls);
          expect(sum(r, 'unpricedModelCalls'), by.join()).toBe(all.total.unpricedModelCalls);
        }
        // A tenant's report is its line of the by-tenant report: its share does not depend on the filter.
        const byTenant = report(['tenant']);
        for (const t of TENANTS)
          expect(costReport(store, table, { month, tenantId: t }).total).toEqual({
            ...byTenant.lines.find((l) => l.key.tenant === t)!,
            key: {},
          });
        // Prorated by steps: initech ran more negotiations, so more steps, so a larger share.
        const share = (t: string) =>
          costReport(store, table, { month, tenantId: t, by: ['agent'] }).lines.find((l) => l.key.agent === 'orchestrator')!.costMicros;
        expect(share('initech')).toBeGreaterThan(share('acme'));
      }
      // Months do not leak into each other: the two months add up to the whole.
      const months = costReport(store, table, { by: ['month'] });
      expect(months.lines.map((l) => l.key.month)).toEqual(['2026-10', '2026-11']);
      expect(sum(months, 'costMicros')).toBe(months.total.costMicros);
    } finally {
      store.close();
    }
  });

  it('charter negotiations costs --by tenant --month rolls the home up in its currency; bad flags exit 2 naming the flag', async () => {
    const { home, store } = bookedHome(table);
    const expected = costReport(store, table, { month: '2026-11', by: ['tenant'] });
    store.close();
    const json = await runCli(['negotiations', 'costs', '--by', 'tenant', '--month', '2026-11', '--json'], home);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as CostReport & { ok: boolean };
    expect(out).toMatchObject({ ok: true, currency: 'EUR', pricesValidFrom: '2026-10-15' });
    expect(out.lines).toEqual(expected.lines);
    expect(out.lines.map((l) => l.key.tenant)).toEqual(TENANTS);
    const table_ = await runCli(['negotiations', 'costs', '--by', 'tenant', '--month', '2026-11'], home);
    expect(table_.stdout).toMatch(/amounts in EUR, prices valid from 2026-10-15/);
    expect(table_.stdout).toContain(formatMoney(expected.total.costMicros));
    const bad = await runCli(['negotiations', 'costs', '--by', 'supplier', '--json'], home);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'CHARTER_INPUT_INVALID', location: { field: '--by' } });
    writeFileSync(join(home, 'prices.yaml'), PRICES_YAML.replace('EUR', 'euro'));
    const badPrices = await runCli(['negotiations', 'costs', '--json'], home);
    expect(badPrices.code).toBe(2);
    expect(JSON.parse(badPrices.stdout).error.message).toMatch(/prices\.yaml.*currency/s);
  }, 120_000);

  it('keeps the usage of a store written before costs had months, unpriced, in the month the negotiation began', () => {
    const dir = mkdtempSync(join(tmpdir(), 'charter-costs-old-'));
    dirs.push(dir);
    const file = join(dir, 'old.sqlite');
    const db = new DatabaseSync(file);
    db.exec(`CREATE TABLE costs (tenant_id TEXT NOT NULL, negotiation_id TEXT NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL,
      invocations INTEGER NOT NULL, model_calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
      tool_calls INTEGER NOT NULL, PRIMARY KEY (tenant_id, negotiation_id, agent, model));
      INSERT INTO costs VALUES ('acme', 'n1', 'kraljic-classifier', 'm', 1, 2, 100, 10, 1), ('acme', 'n1', 'orchestrator', '-', 7, 0, 0, 0, 0);`);
    db.close();
    const store = new NegotiationStore(file);
    try {
      expect(store.costs()).toEqual([
        expect.objectContaining({ agent: 'kraljic-classifier', month: '', modelCalls: 2, costMicros: null }),
        expect.objectContaining({ agent: 'orchestrator', month: '', invocations: 7, costMicros: 0 }),
      ]);
    } finally {
      store.close();
    }
  });
});
