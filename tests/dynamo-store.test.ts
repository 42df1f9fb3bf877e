import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuotedBid } from '../agents/index.js';
import {
  createStoreTables,
  DynamoNegotiationStore,
  NegotiationStore,
  sampleRequisition,
  STORE_TABLES,
  type NegotiationState,
  type RunnerStore,
} from '../orchestrator/index.js';
import { startDynalite, type LocalDynamo } from './dynalite-server.js';

/** The DynamoDB store's conditional writes, with the real SDK against dynalite on a loopback port. */
let dynamo: LocalDynamo;
let n = 0;
/** The DynamoDB operations the runners' stores sent (e.g. `PutItem`), across every test of this file. */
const sentOperations = new Set<string>();

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(() => dynamo.close());

/** Two runners' stores on fresh tables: each with its own client and its own local copy. */
async function tables(capacity = 100, tenants = ['acme', 'globex']): Promise<[DynamoNegotiationStore, DynamoNegotiationStore, string]> {
  const prefix = `t${++n}`;
  await createStoreTables(dynamo.client(), prefix);
  const open = () =>
    new DynamoNegotiationStore(
      { tables: prefix, tenants, capacity, client: recorded(dynamo.client()) },
      new NegotiationStore(':memory:', capacity),
    );
  return [open(), open(), prefix];
}

/** A client that notes every operation sent through it (the document client's commands reach it as the low-level ones). */
function recorded<C extends ReturnType<LocalDynamo['client']>>(client: C): C {
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName) sentOperations.add(context.commandName.replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'recordOperation' },
  );
  return client;
}

function draft(tenantId: string, i: number): NegotiationState {
  const requisition = sampleRequisition(tenantId, i);
  return {
    tenantId,
    negotiationId: requisition.negotiationId,
    requisition,
    status: 'DRAFT',
    nextNode: 'ingest',
    reason: null,
    pool: [],
    history: [],
  };
}

const POLICY = { reservedSlots: 1, maxSlots: 2 };

describe('DynamoNegotiationStore: checkpoints', () => {
  it('refuses a checkpoint from a stale version and keeps the first write', async () => {
    const [a, b] = await tables();
    const s = await a.createDraft(draft('acme', 0));
    expect(await a.version('acme', s.negotiationId)).toBe(0);
    expect(await a.checkpoint({ ...s, nextNode: 'classify', reason: 'first' }, 0, 'ingest')).toBe(1);
    // The second runner still believes version 0.
    await expect(b.checkpoint({ ...s, nextNode: 'route', reason: 'second' }, 0, 'ingest')).rejects.toThrow(
      /checkpoint conflict on acme#acme-n001: expected version 0/,
    );
    expect((await b.load('acme', s.negotiationId))?.reason).toBe('first');
    expect(b.local.version('acme', s.negotiationId)).toBe(1);
    // Another tenant's id finds nothing.
    expect(await b.get('globex', s.negotiationId)).toBeUndefined();
  });
});

describe('DynamoNegotiationStore: admission slots', () => {
  it('refuses a slot over the tenant limit, also to two runners admitting at once, and frees it when a negotiation leaves ACTIVE', async () => {
    const [a, b] = await tables();
    const drafts = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => a.createDraft(draft('acme', i))));
    const answers = await Promise.all(drafts.map((d, i) => (i % 2 ? b : a).admit({ ...d, nextNode: 'classify' }, POLICY, 0)));
    expect(answers.filter((x) => x.admitted)).toHaveLength(2);
    for (const refused of answers.filter((x) => !x.admitted))
      expect(refused).toEqual({ admitted: false, reason: 'tenant acme has 2 active negotiation(s), its maximum is 2' });
    expect(await a.activeCount('acme')).toBe(2);
    const admitted = drafts.filter((_, i) => answers[i]!.admitted);
    const statuses = await Promise.all(drafts.map((d) => a.get('acme', d.negotiationId)));
    expect(statuses.filter((s) => s?.status === 'ACTIVE')).toHaveLength(2);
    // One ends: its slot is free, a refused one is admitted on retry.
    const ended = admitted[0]!;
    await b.checkpoint({ ...ended, status: 'AWARDED', nextNode: null }, await b.version('acme', ended.negotiationId), 'award');
    expect(await a.activeCount('acme')).toBe(1);
    const retry = drafts.find((_, i) => !answers[i]!.admitted)!;
    expect(await a.admit({ ...retry, nextNode: 'classify' }, POLICY, 0)).toEqual({ admitted: true });
    expect(await b.admit({ ...drafts.find((d) => d !== retry && !admitted.includes(d))!, nextNode: 'classify' }, POLICY, 0)).toMatchObject({
      admitted: false,
    });
  });

  it('decides as the SQLite store does: reserved slots, the shared pool, the maximum (one rule for both)', async () => {
    const [dynamoStore] = await tables(3);
    const sqlite = new NegotiationStore(':memory:', 3);
    const policies = { acme: { reservedSlots: 1, maxSlots: 3 }, globex: { reservedSlots: 1, maxSlots: 3 } };
    const order: Array<['acme' | 'globex', number]> = [
      ['acme', 0],
      ['acme', 1],
      ['globex', 0],
      ['acme', 2],
      ['globex', 1],
      ['globex', 2],
    ];
    const decide = async (store: RunnerStore) => {
      const out: string[] = [];
      for (const [t, i] of order) {
        const d = await store.createDraft(draft(t, i));
        const r = await store.admit({ ...d, nextNode: 'classify' }, policies[t], 0);
        out.push(r.admitted ? 'admitted' : r.reason);
      }
      return out;
    };
    const expected = await decide(sqlite);
    expect(expected).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'shared capacity exhausted (1/1 shared slots in use)',
      'shared capacity exhausted (1/1 shared slots in use)',
      'shared capacity exhausted (1/1 shared slots in use)',
    ]);
    expect(await decide(dynamoStore)).toEqual(expected);
    sqlite.close();
  });

  it('keeps the slot when two runners admit one negotiation and the one that took the slot loses the ACTIVE write', async () => {
    // Runner a takes the slot for acme-n001; before a writes ACTIVE, runner b admits the same
    // negotiation (it finds the slot held, so it writes ACTIVE straight away); a's write then
    // fails on the version. The slot must stay with acme-n001, which now runs: freeing it let a
    // third negotiation in (seen with two `negotiations serve` runners: 3 ACTIVE for 2 slots).
    const prefix = `t${++n}`;
    await createStoreTables(dynamo.client(), prefix);
    const b = new DynamoNegotiationStore(
      { tables: prefix, tenants: ['acme'], capacity: 100, client: recorded(dynamo.client()) },
      new NegotiationStore(':memory:'),
    );
    let interleaved: Promise<unknown> | undefined;
    const clientA = recorded(dynamo.client());
    clientA.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: { sk?: { S?: string } } }).Key;
        if (context.commandName === 'UpdateItemCommand' && key?.sk?.S === 'negotiation' && !interleaved) {
          interleaved = b.admit({ ...first, nextNode: 'classify' }, POLICY, 0);
          expect(await interleaved).toEqual({ admitted: true });
        }
        return next(args);
      },
      { step: 'build', name: 'admitTheSameOnRunnerB' },
    );
    const a = new DynamoNegotiationStore(
      { tables: prefix, tenants: ['acme'], capacity: 100, client: clientA },
      new NegotiationStore(':memory:'),
    );
    const first = await a.createDraft(draft('acme', 0));
    await expect(a.admit({ ...first, nextNode: 'classify' }, POLICY, 0)).rejects.toThrow(/checkpoint conflict on acme#acme-n001/);
    expect(interleaved).toBeDefined();
    expect((await a.get('acme', first.negotiationId))?.status).toBe('ACTIVE');
    expect(await a.activeCount('acme')).toBe(1);
    // One slot left of two: one more is admitted, the next refused.
    const [second, third] = await Promise.all([1, 2].map((i) => a.createDraft(draft('acme', i))));
    expect(await a.admit({ ...second!, nextNode: 'classify' }, POLICY, 0)).toEqual({ admitted: true });
    expect(await b.admit({ ...third!, nextNode: 'classify' }, POLICY, 0)).toMatchObject({ admitted: false });
    a.close();
    b.close();
  });

  it('gives back the slot of a negotiation whose runner died before freeing it', async () => {
    const [a, b, prefix] = await tables();
    const ds = await Promise.all([0, 1, 2].map((i) => a.createDraft(draft('acme', i))));
    for (const d of ds.slice(0, 2)) expect(await a.admit({ ...d, nextNode: 'classify' }, POLICY, 0)).toEqual({ admitted: true });
    // A runner ended acme-n001 and died before its slot write: the slot item still names it.
    const doc = DynamoDBDocumentClient.from(dynamo.client());
    await doc.send(
      new UpdateCommand({
        TableName: `${prefix}-negotiations`,
        Key: { pk: 'acme#acme-n001', sk: 'negotiation' },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'AWARDED' },
      }),
    );
    expect(await b.admit({ ...ds[2]!, nextNode: 'classify' }, POLICY, 0)).toEqual({ admitted: true });
    expect(await a.activeCount('acme')).toBe(2);
  });
});

describe('DynamoNegotiationStore: idempotency records', () => {
  it('records a bid and a document exactly once across runners, each with a TTL attribute', async () => {
    const [a, b, prefix] = await tables();
    const d = await a.createDraft(draft('acme', 0));
    const bid = (price: number) =>
      ({
        bidId: 'acme/acme-n001/s01/1',
        supplierId: 'acme-s01',
        round: 1,
        priceCents: price,
        lines: [{ lineId: 'L1', unitPriceCents: price }],
      }) as unknown as QuotedBid;
    const [x, y] = await Promise.all([
      a.recordBid('acme', d.negotiationId, 'k1', bid(100)),
      b.recordBid('acme', d.negotiationId, 'k1', bid(999)),
    ]);
    expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
    expect(x.bid.priceCents).toBe(y.bid.priceCents);
    const doc = DynamoDBDocumentClient.from(dynamo.client());
    const stored = await doc.send(new GetCommand({ TableName: `${prefix}-idempotency`, Key: { pk: 'acme#acme-n001', sk: 'bid#k1' } }));
    const now = Math.floor(Date.now() / 1000);
    expect(stored.Item?.expiresAt).toBeGreaterThan(now + 89 * 86400);
    expect(stored.Item?.expiresAt).toBeLessThanOrEqual(now + 90 * 86400 + 1);
    const [p, q] = await Promise.all([
      a.recordDocument('acme', d.negotiationId, 'po1', 'purchase-order', { n: 1 }),
      b.recordDocument('acme', d.negotiationId, 'po1', 'purchase-order', { n: 2 }),
    ]);
    expect(p.id).toBe(q.id);
    expect([p.duplicate, q.duplicate].sort()).toEqual([false, true]);
    const po = await doc.send(new GetCommand({ TableName: `${prefix}-idempotency`, Key: { pk: 'acme#acme-n001', sk: 'doc#po1' } }));
    expect(typeof po.Item?.expiresAt).toBe('number');
    // A runner that takes the negotiation over loads them into its local copy (what the gateway reads).
    const c = new DynamoNegotiationStore(
      { tables: prefix, tenants: ['acme'], capacity: 100, client: dynamo.client() },
      new NegotiationStore(':memory:'),
    );
    await c.load('acme', d.negotiationId);
    expect(c.local.bid('acme', 'acme/acme-n001/s01/1')?.priceCents).toBe(x.bid.priceCents);
    expect(c.local.documentsOf('acme', d.negotiationId)).toEqual([
      { kind: 'purchase-order', id: p.id, body: p.duplicate ? { n: 2 } : { n: 1 } },
    ]);
  });
});

describe('DynamoNegotiationStore: leases', () => {
  it('gives a lease to one runner at a time, to another once it expired, and the heartbeat renews only its own', async () => {
    const [a, b] = await tables();
    const t0 = Date.now();
    expect(await a.acquireLease('acme', 'acme-n001', 'runner-a', 1000, t0)).toBe(true);
    expect(await b.acquireLease('acme', 'acme-n001', 'runner-b', 1000, t0 + 10)).toBe(false);
    expect(await a.renewLeases('runner-a', 1000, t0 + 500)).toBe(1);
    expect(await b.expiredLeases(t0 + 1400)).toEqual([]);
    expect(await b.expiredLeases(t0 + 1600)).toEqual([
      { tenantId: 'acme', negotiationId: 'acme-n001', owner: 'runner-a', expiresAt: t0 + 1500 },
    ]);
    expect(await b.acquireLease('acme', 'acme-n001', 'runner-b', 1000, t0 + 1600)).toBe(true);
    // The old owner's heartbeat finds the lease gone and stops renewing it; its release takes nothing.
    expect(await a.renewLeases('runner-a', 1000, t0 + 1700)).toBe(0);
    await a.releaseLease('acme', 'acme-n001', 'runner-a');
    expect(await a.acquireLease('acme', 'acme-n001', 'runner-a', 1000, t0 + 1800)).toBe(false);
  });
});

describe('DynamoNegotiationStore: IAM', () => {
  // Runs after the tests above (vitest keeps file order): what they made the stores send.
  it('sends only operations the runner role of `charter release terraform` grants (STORE_TABLES.actions)', () => {
    expect(sentOperations.size).toBeGreaterThan(3);
    const granted = new Set<string>(STORE_TABLES.actions);
    const ungranted = [...sentOperations].map((op) => `dynamodb:${op}`).filter((action) => !granted.has(action));
    expect(ungranted).toEqual([]);
  });
});
