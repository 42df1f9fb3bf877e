import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NegotiationStore, OrchestratorLedger, sampleRequisition, type NegotiationState } from '../orchestrator/index.js';

const dir = mkdtempSync(join(tmpdir(), 'charter-entity-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the gateway's negotiation entity read without parsing the whole state", () => {
  const store = new NegotiationStore(join(dir, 'negotiations.sqlite'));
  const ledger = new OrchestratorLedger(store, { approvedSuppliers: () => [] } as never);
  const requisition = sampleRequisition('acme', 0);
  const draft: NegotiationState = {
    tenantId: 'acme',
    negotiationId: requisition.negotiationId,
    requisition,
    status: 'DRAFT',
    nextNode: 'ingest',
    reason: null,
    pool: [],
    history: [],
  };
  store.createDraft(draft);

  /** The same fields from the tools' whole view (get + toolColumns), the reference. */
  const fromView = () => {
    const v = ledger.negotiation('acme', requisition.negotiationId)!;
    return { status: v.status, quadrant: v.quadrant, budgetCents: v.budgetCents, round: v.round, deliveryRegion: v.deliveryRegion };
  };

  it('holds what the whole view holds, as the negotiation moves', async () => {
    expect(ledger.negotiationFacts('acme', requisition.negotiationId)).toEqual(fromView());
    await ledger.recordClassification('acme', requisition.negotiationId, { quadrant: 'Strategic', confidenceBp: 9000, rationale: 'test' });
    await ledger.openRound('acme', requisition.negotiationId, 2);
    const state = store.get('acme', requisition.negotiationId)!;
    store.checkpoint({ ...state, status: 'ACTIVE', nextNode: 'classify' }, 0, 'ingest');
    const facts = ledger.negotiationFacts('acme', requisition.negotiationId);
    expect(facts).toEqual(fromView());
    expect(facts).toMatchObject({
      status: 'ACTIVE',
      round: 2,
      budgetCents: requisition.budgetCents,
      deliveryRegion: requisition.deliveryRegion,
    });
    expect(facts!.quadrant).not.toBe('UNCLASSIFIED');
  });

  it('finds nothing under another tenant, and refuses a row whose state names another tenant', () => {
    expect(ledger.negotiationFacts('globex', requisition.negotiationId)).toBeUndefined();
    store.db.prepare('UPDATE negotiations SET tenant_id = ? WHERE pk = ?').run('acme', `acme#${requisition.negotiationId}`);
    const forged = { ...store.get('acme', requisition.negotiationId)!, tenantId: 'globex' };
    store.db.prepare('UPDATE negotiations SET state = ? WHERE pk = ?').run(JSON.stringify(forged), `acme#${requisition.negotiationId}`);
    expect(() => ledger.negotiationFacts('acme', requisition.negotiationId)).toThrow(/holds state of tenant 'globex'/);
    expect(() => store.get('acme', requisition.negotiationId)).toThrow(/holds state of tenant 'globex'/);
  });
});
