import { describe, expect, it } from 'vitest';
import { NegotiationStore } from '../orchestrator/index.js';

/** SQLite's plan for a statement: one line per step (SCAN / SEARCH ... USING INDEX ...). */
function plan(store: NegotiationStore, sql: string, ...args: Array<string | number>): string {
  return (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
}

describe("a negotiation's bids and documents are read through an index on the negotiation", () => {
  const store = new NegotiationStore(':memory:');

  it('bidsOf, with and without a round, and documentsOf search by tenant and negotiation, not every row of the tenant', () => {
    // The statements bidsOf and documentsOf run (orchestrator/store.ts).
    expect(plan(store, 'SELECT bid FROM bids WHERE tenant_id = ? AND negotiation_id = ? ORDER BY supplier_id, round', 'a', 'n')).toContain(
      'bids_by_negotiation (tenant_id=? AND negotiation_id=?)',
    );
    expect(
      plan(store, 'SELECT bid FROM bids WHERE tenant_id = ? AND negotiation_id = ? AND round = ? ORDER BY supplier_id, round', 'a', 'n', 1),
    ).toContain('bids_by_negotiation (tenant_id=? AND negotiation_id=? AND round=?)');
    expect(plan(store, 'SELECT kind, id, body FROM documents WHERE tenant_id = ? AND negotiation_id = ? ORDER BY id', 'a', 'n')).toContain(
      'documents_by_negotiation (tenant_id=? AND negotiation_id=?)',
    );
  });
});
