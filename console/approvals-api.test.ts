import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { digestJson, loadTrustedKeys } from '../signing/index.js';
import { approvalRefusal, ApproverDirectory, verifyApprovalTokens, type ApprovalRequest } from '../gateway/index.js';
import type { EvidenceRecord } from '../audit/index.js';
import { AGENT, openGatewayHarness, type GatewayHarness } from '../tests/gateway-harness.js';
import { BrowserSigning, type SigningStep } from './browser-signing.js';
import { approvalQueue, startApprovalAct, startSwitchChange, killSwitches, type Viewer } from './approvals-api.js';
import { answerAsk, importApproverKey, type BrowserKey } from './web/src/signing.js';

let h: GatewayHarness;
let signing: BrowserSigning;
beforeEach(async () => {
  h = await openGatewayHarness();
  signing = new BrowserSigning();
});
afterEach(() => h.close());

const keyFile = (name: string) => join(h.home, 'keys', `${name}.key.pem`);
/** The approver's key as the page imports it: the PEM file `charter keys generate` wrote, into WebCrypto. */
const browserKey = (name: string) => importApproverKey(readFileSync(keyFile(name), 'utf8'));

function open(tool: 'award_contract' | 'terminate_supplier', requestedBy = 'svc-spot-bidding', supplierId = 'acme-s1'): ApprovalRequest {
  const args = { negotiationId: 'acme-n1', supplierId };
  return h.approvals.request({
    tenant: 'acme',
    agent: AGENT,
    tool,
    tier: tool === 'award_contract' ? 'write-high' : 'critical',
    args,
    argsDigest: digestJson(args),
    requestedBy,
    ttlSeconds: 600,
  });
}

/** The page's loop: sign each step the server asks for, checked against the request acted on, until the act is done. */
async function drive<T>(viewer: Viewer, first: Promise<SigningStep<T>>, key: BrowserKey, subject: string): Promise<T> {
  let step: SigningStep<unknown> = await first;
  while ('ask' in step)
    step = await signing.answer(viewer.name, step.session, await answerAsk(key, step.ask, { subject, claim: 'approvalId' }));
  return step.done as T;
}

const outbox = () => readdirSync(join(h.home, 'approvals', 'evidence')).filter((f) => f.endsWith('.json'));

async function delivered(): Promise<EvidenceRecord[]> {
  const records: EvidenceRecord[] = [];
  const refusals = await h.approvals.evidence.deliver(async (r) => records.push(r), loadTrustedKeys(h.trustedKeysFile));
  expect(refusals).toEqual([]);
  return records;
}

const alice: Viewer = { name: 'alice' };
const bob: Viewer = { name: 'bob' };

test('an approval signed in the browser is the token and evidence the CLI makes: the gateway counts it, the outbox accepts it', async () => {
  const req = open('award_contract');
  const done = await drive(
    alice,
    startApprovalAct(h.home, signing, alice, { id: req.id, decision: 'approve', keyId: (await browserKey('alice')).keyId }),
    await browserKey('alice'),
    req.id,
  );
  expect(done).toMatchObject({ status: 'approved', approvals: [{ approver: 'alice' }] });
  const tokens = h.approvals.tokensFor(req);
  const verified = await verifyApprovalTokens(
    tokens,
    req,
    loadTrustedKeys(h.trustedKeysFile),
    h.approvals,
    'svc-spot-bidding',
    () => undefined,
  );
  expect(verified.problems).toEqual([]);
  expect(verified.approvals).toEqual([{ approvalId: req.id, approver: 'alice' }]);
  const [record] = await delivered();
  expect(record).toMatchObject({
    evidenceType: 'approval',
    subject: `approval:${req.id}`,
    document: { decision: 'approve', approver: 'alice' },
  });
});

test('the same rules as the CLI: not the requester, two people for dual approval, a denial needs a reason', async () => {
  const own = open('award_contract', 'alice');
  const key = await browserKey('alice');
  await expect(startApprovalAct(h.home, signing, alice, { id: own.id, decision: 'approve', keyId: key.keyId })).rejects.toThrow(
    /requester cannot approve their own request/,
  );
  const dual = open('terminate_supplier');
  const first = await drive(
    alice,
    startApprovalAct(h.home, signing, alice, { id: dual.id, decision: 'approve', keyId: key.keyId }),
    key,
    dual.id,
  );
  expect(first).toMatchObject({ status: 'pending', approvals: [{ approver: 'alice' }] });
  await expect(
    drive(alice, startApprovalAct(h.home, signing, alice, { id: dual.id, decision: 'approve', keyId: key.keyId }), key, dual.id),
  ).rejects.toThrow(/alice has already approved/);
  const bobKey = await browserKey('bob');
  const second = await drive(
    bob,
    startApprovalAct(h.home, signing, bob, { id: dual.id, decision: 'approve', keyId: bobKey.keyId }),
    bobKey,
    dual.id,
  );
  expect(second).toMatchObject({ status: 'approved' });
  await expect(
    startApprovalAct(h.home, signing, bob, { id: open('award_contract').id, decision: 'deny', keyId: bobKey.keyId }),
  ).rejects.toThrow(/needs a reason/);
});

test("approver scope is Cedar's decision over approvers.yaml; a refusal is signed evidence and no token", async () => {
  writeFileSync(
    h.approversFile,
    'approvers:\n  alice: { tenants: [acme], spendLimitCents: 100000000, roles: [approver, buyer, finance] }\n  bob: { tenants: [globex], spendLimitCents: 100000000, roles: [approver, buyer, finance] }\n',
  );
  const req = open('award_contract');
  // The CLI's own check, asked directly, says the same as the console.
  const engine = (await import('../policy-packs/index.js')).PolicyEngine;
  expect(engine).toBeDefined();
  expect(approvalRefusal).toBeDefined();
  expect(ApproverDirectory.load(h.approversFile).names()).toEqual(['alice', 'bob']);
  const key = await browserKey('bob');
  await expect(
    drive(bob, startApprovalAct(h.home, signing, bob, { id: req.id, decision: 'approve', keyId: key.keyId }), key, req.id),
  ).rejects.toThrow(/approver 'bob' may not approve award_contract for tenant acme/);
  expect(h.approvals.get(req.id)).toMatchObject({ status: 'pending', approvals: [] });
  const [refusal] = await delivered();
  expect(refusal).toMatchObject({ evidenceType: 'approval', document: { decision: 'refused', approver: 'bob' } });
});

test("a signature that does not verify, or another person's key, writes nothing", async () => {
  const req = open('award_contract');
  const aliceKey = await browserKey('alice');
  const bobKey = await browserKey('bob');
  await expect(startApprovalAct(h.home, signing, bob, { id: req.id, decision: 'approve', keyId: aliceKey.keyId })).rejects.toThrow(
    /the key is 'alice'.*signed in as 'bob'/,
  );
  // The server asks for alice's token; a browser answering with bob's key is refused.
  const step = await startApprovalAct(h.home, signing, alice, { id: req.id, decision: 'approve', keyId: aliceKey.keyId });
  if (!('ask' in step) || step.ask.kind !== 'token') throw new Error('expected a token to sign');
  const forged = await answerAsk({ ...bobKey, keyId: aliceKey.keyId }, step.ask, { subject: req.id, claim: 'approvalId' });
  await expect(signing.answer('alice', step.session, forged)).rejects.toThrow(/does not verify with the key of 'alice'/);
  expect(h.approvals.get(req.id)).toMatchObject({ status: 'pending', approvals: [] });
  expect(() => outbox()).toThrow();
  // Another user cannot answer alice's session.
  const again = await startApprovalAct(h.home, signing, alice, { id: req.id, decision: 'approve', keyId: aliceKey.keyId });
  await expect(signing.answer('bob', again.session, 'x')).rejects.toThrow(/no signing session/);
});

test("a tenant-scoped viewer sees and acts on their tenant's requests only, told of another's as of none", async () => {
  const req = open('award_contract');
  expect(approvalQueue(h.home, { name: 'alice', tenant: 'globex' })).toEqual([]);
  expect(approvalQueue(h.home, { name: 'alice', tenant: 'acme' }).map((r) => r.id)).toEqual([req.id]);
  const key = await browserKey('alice');
  await expect(
    startApprovalAct(h.home, signing, { name: 'alice', tenant: 'globex' }, { id: req.id, decision: 'approve', keyId: key.keyId }),
  ).rejects.toThrow(`no approval request ${req.id}`);
});

test('kill switches: engaged and released with signed evidence, release needs an approval key', async () => {
  writeFileSync(join(h.home, 'tenants.yaml'), 'tenants:\n  acme: {}\n  globex: {}\n');
  const key = await browserKey('alice');
  const drive2 = (p: Promise<SigningStep<unknown>>) => drive(alice, p, key, 'acme');
  const engaged = await drive2(
    startSwitchChange(h.home, signing, alice, { verb: 'engage', tenant: 'ACME', reason: 'leak', keyId: key.keyId }),
  );
  expect(engaged).toMatchObject({ kind: 'tenant', id: 'acme', action: 'engage', by: 'alice' });
  expect(killSwitches(h.home, { name: 'x', tenant: 'globex' }).engaged).toEqual([]);
  expect(killSwitches(h.home, alice).engaged).toMatchObject([{ kind: 'tenant', id: 'acme', by: 'alice', reason: 'leak' }]);
  await expect(
    startSwitchChange(h.home, signing, alice, { verb: 'engage', tenant: 'initrode', reason: 'x', keyId: key.keyId }),
  ).rejects.toThrow(/unknown tenant 'initrode': known tenants are acme, globex/);
  await drive2(startSwitchChange(h.home, signing, alice, { verb: 'release', tenant: 'acme', reason: 'rotated', keyId: key.keyId }));
  expect(killSwitches(h.home, alice).engaged).toEqual([]);
  const records = await delivered();
  expect(records.map((r) => (r.document as { action: string }).action)).toEqual(['engage', 'release']);
});
