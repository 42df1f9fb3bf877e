import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { EvidenceRecord } from '../audit/index.js';
import { digestJson, trustedKeyFromPublicKey, type TrustedKeysFile } from '../signing/index.js';
import { ApprovalStore } from './approvals.js';
import { approverKey, verifyApprovalTokens, type ApproverKey } from './approval-tokens.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'charter-approvals-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const args = { negotiationId: 'n1', supplierId: 's1' };
const binding = { tenant: 'acme', agent: 'spot-bidding', tool: 'award_contract', argsDigest: digestJson(args) };
/** Approval keys and the trusted-keys file that names them. */
function approvers(...names: string[]): { trusted: TrustedKeysFile; as: (name: string) => ApproverKey } {
  const pairs = new Map(names.map((n) => [n, generateKeyPairSync('ed25519')]));
  const trusted = { keys: [...pairs].map(([n, k]) => trustedKeyFromPublicKey(k.publicKey, n, ['approval'])) };
  return { trusted, as: (name) => approverKey(pairs.get(name)!.privateKey, trusted) };
}

const request = (store: ApprovalStore, now = Date.now(), tier: 'write-high' | 'critical' = 'write-high') =>
  store.request({ ...binding, tier, args, requestedBy: 'agent', ttlSeconds: 60 }, now);

test('a retried call reuses the live request; read and write-low tools need none', () => {
  const store = new ApprovalStore(dir);
  const a = request(store);
  expect(request(store).id).toBe(a.id);
  expect(store.list().length).toBe(1);
  expect(() => store.request({ ...binding, tier: 'write-low', args, requestedBy: 'x', ttlSeconds: 60 })).toThrow(/needs no approval/);
  expect(() => store.get('not-an-id')).toThrow(/not an approval id/);
});

/** Token mechanics only: every approver is in scope (scope decisions are tested with the packs, tests/approver-scope.test.ts). */
const anyone = () => undefined;

test('approve signs a token that verifies for exactly this binding; critical needs two approvers', async () => {
  const store = new ApprovalStore(dir);
  const { trusted, as } = approvers('alice', 'bob');
  const req = request(store, Date.now(), 'critical');
  expect((await store.approve(req.id, as('alice'))).status).toBe('pending');
  expect((await store.approve(req.id, as('bob'))).status).toBe('approved');
  const tokens = store.tokensFor(binding);
  expect(tokens.length).toBe(2);
  const ok = await verifyApprovalTokens(tokens, binding, trusted, store, 'agent', anyone);
  expect(ok.approvals.map((a) => a.approver).sort()).toEqual(['alice', 'bob']);
  expect(ok.problems).toEqual([]);
  const other = await verifyApprovalTokens(tokens, { ...binding, tenant: 'globex' }, trusted, store, 'agent', anyone);
  expect(other.approvals).toEqual([]);
  expect(other.problems[0]).toMatch(/bound to tenant 'acme', this call has 'globex'/);
  // Consumption is single-use, also across store instances (processes share the folder).
  expect(store.consume(ok.tokenIds[0]!)).toBe(true);
  expect(new ApprovalStore(dir).consume(ok.tokenIds[0]!)).toBe(false);
  expect((await verifyApprovalTokens(tokens, binding, trusted, store, 'agent', anyone)).problems[0]).toMatch(/already used/);
});

test("a token counts only when the approver's scope allows it", async () => {
  const store = new ApprovalStore(dir);
  const { trusted, as } = approvers('alice', 'bob');
  const req = request(store, Date.now(), 'critical');
  await store.approve(req.id, as('alice'));
  await store.approve(req.id, as('bob'));
  const onlyAlice = (approver: string) => (approver === 'alice' ? undefined : `approver '${approver}' may not approve this`);
  const scoped = await verifyApprovalTokens(store.tokensFor(binding), binding, trusted, store, 'agent', onlyAlice);
  expect(scoped.approvals.map((a) => a.approver)).toEqual(['alice']);
  expect(scoped.problems).toEqual([expect.stringMatching(/approval token 2: approver 'bob' may not approve this/)]);
});

test('requests expire: tokens stop counting and expire() records it', async () => {
  const store = new ApprovalStore(dir);
  const { trusted, as } = approvers('alice');
  const t0 = Date.now();
  const req = request(store, t0);
  await store.approve(req.id, as('alice'), t0);
  const token = store.get(req.id).approvals[0]!.token;
  const later = t0 + 61_000;
  expect(store.get(req.id, later).status).toBe('expired');
  expect(store.tokensFor(binding, later)).toEqual([]);
  const late = await verifyApprovalTokens([token], binding, trusted, store, 'agent', anyone, later);
  expect(late.problems[0]).toMatch(/exp/);
  expect(store.expire(later).map((r) => r.id)).toEqual([req.id]);
  await expect(store.approve(req.id, as('alice'), later)).rejects.toThrow(/is expired/);
});

test('a gated call reads one indexed request, not every file; a store without the index is indexed once', async () => {
  const store = new ApprovalStore(dir);
  for (let i = 0; i < 50; i++)
    store.request({ ...binding, argsDigest: digestJson({ i }), tier: 'write-high', args: { i }, requestedBy: 'agent', ttlSeconds: 60 });
  const req = request(store);
  await store.approve(req.id, approvers('alice').as('alice'));
  // Another request file that the index does not name is never read for this binding.
  writeFileSync(join(dir, '00000000-0000-7000-8000-000000000000.json'), 'not json');
  expect(store.tokensFor(binding)).toHaveLength(1);
  expect(request(store).id).toBe(req.id);
  rmSync(join(dir, '00000000-0000-7000-8000-000000000000.json'));

  // A store from before the index: the first lookup rebuilds it from the request files.
  rmSync(join(dir, 'by-binding'), { recursive: true });
  expect(new ApprovalStore(dir).tokensFor(binding)).toHaveLength(1);
  expect(readdirSync(join(dir, 'by-binding'))).toHaveLength(51);
});

test('each approve and deny leaves a signed evidence record for the audit writer', async () => {
  const store = new ApprovalStore(dir);
  const { trusted, as } = approvers('alice', 'bob');
  const req = request(store);
  await store.approve(req.id, as('alice'));
  await store.deny(req.id, as('bob'), 'wrong supplier');
  expect(store.evidence.pending()).toHaveLength(2);
  const appended: EvidenceRecord[] = [];
  const refused = await store.evidence.deliver(async (r) => void appended.push(r), trusted);
  expect(refused).toEqual([]);
  const [approved, denied] = appended;
  expect(approved).toMatchObject({ kind: 'evidence', evidenceType: 'approval', subject: `approval:${req.id}`, tenantId: 'acme' });
  expect(approved!.document).toMatchObject({ decision: 'approve', approver: 'alice', request: { argsDigest: binding.argsDigest } });
  expect(denied!.document).toMatchObject({ decision: 'deny', approver: 'bob', reason: 'wrong supplier', statusAfter: 'denied' });
  expect((denied!.document as { token: string }).token).toBe(store.get(req.id).denials[0]!.token);
  expect(store.evidence.pending()).toEqual([]);
});

test('the requester cannot approve their own request, and one approver counts once', async () => {
  const store = new ApprovalStore(dir);
  const { as } = approvers('agent', 'alice');
  const req = request(store, Date.now(), 'critical');
  await expect(store.approve(req.id, as('agent'))).rejects.toThrow(/requester cannot approve their own request/);
  await store.approve(req.id, as('alice'));
  await expect(store.approve(req.id, as('alice'))).rejects.toThrow(/already approved/);
  expect(store.get(req.id)).toMatchObject({ status: 'pending', approvals: [expect.objectContaining({ approver: 'alice' })] });
});
