import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { canonicalJson, digestJson, loadTrustedKeys } from '../signing/index.js';
import { approvalRefusal, ApproverDirectory, verifyApprovalTokens, type ApprovalRequest } from '../gateway/index.js';
import type { EvidenceRecord } from '../audit/index.js';
import { AGENT, openGatewayHarness, type GatewayHarness } from '../tests/gateway-harness.js';
import { BrowserSigning, type SigningStep } from './browser-signing.js';
import { approvalQueue, startApprovalAct, startSwitchChange, killSwitches, type Viewer } from './approvals-api.js';
import { actSigner, importApproverKey, type BrowserKey } from './web/src/signing.js';
import { shownRequest, type Intent } from './web/src/statement.js';

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

/** What the approvals page shows of a request, and the button clicked: the intent its statements are checked against. */
function approvalIntent(req: ApprovalRequest, signer: string, decision: 'approve' | 'deny' = 'approve', reason = ''): Intent {
  return { act: 'approval', decision, reason, signer, request: shownRequest(req) };
}

/** The page's loop: sign each step the server asks for, checked against what the page shows, until the act is done. */
async function drive<T>(viewer: Viewer, first: Promise<SigningStep<T>>, key: BrowserKey, intent: Intent): Promise<T> {
  const sign = actSigner(key, intent);
  let step: SigningStep<unknown> = await first;
  while ('ask' in step) step = await signing.answer(viewer.name, step.session, await sign(step.ask));
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
    approvalIntent(req, 'alice'),
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
    approvalIntent(dual, 'alice'),
  );
  expect(first).toMatchObject({ status: 'pending', approvals: [{ approver: 'alice' }] });
  await expect(
    drive(
      alice,
      startApprovalAct(h.home, signing, alice, { id: dual.id, decision: 'approve', keyId: key.keyId }),
      key,
      approvalIntent(dual, 'alice'),
    ),
  ).rejects.toThrow(/alice has already approved/);
  const bobKey = await browserKey('bob');
  const second = await drive(
    bob,
    startApprovalAct(h.home, signing, bob, { id: dual.id, decision: 'approve', keyId: bobKey.keyId }),
    bobKey,
    approvalIntent(dual, 'bob'),
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
    drive(
      bob,
      startApprovalAct(h.home, signing, bob, { id: req.id, decision: 'approve', keyId: key.keyId }),
      key,
      approvalIntent(req, 'bob'),
    ),
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
  const forged = await actSigner({ ...bobKey, keyId: aliceKey.keyId }, approvalIntent(req, 'alice'))(step.ask);
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
  const sw = { act: 'kill-switch', kind: 'tenant', id: 'acme', signer: 'alice' } as const;
  const engaged = await drive(
    alice,
    startSwitchChange(h.home, signing, alice, { verb: 'engage', tenant: 'ACME', reason: 'leak', keyId: key.keyId }),
    key,
    { ...sw, action: 'engage', reason: 'leak' },
  );
  expect(engaged).toMatchObject({ kind: 'tenant', id: 'acme', action: 'engage', by: 'alice' });
  expect(killSwitches(h.home, { name: 'x', tenant: 'globex' }).engaged).toEqual([]);
  expect(killSwitches(h.home, alice).engaged).toMatchObject([{ kind: 'tenant', id: 'acme', by: 'alice', reason: 'leak' }]);
  await expect(
    startSwitchChange(h.home, signing, alice, { verb: 'engage', tenant: 'initrode', reason: 'x', keyId: key.keyId }),
  ).rejects.toThrow(/unknown tenant 'initrode': known tenants are acme, globex/);
  const [shown] = killSwitches(h.home, alice).engaged;
  await drive(
    alice,
    startSwitchChange(h.home, signing, alice, { verb: 'release', tenant: 'acme', reason: 'rotated', keyId: key.keyId }),
    key,
    { ...sw, action: 'release', reason: 'rotated', engaged: { by: shown!.by, at: shown!.at, reason: shown!.reason } },
  );
  expect(killSwitches(h.home, alice).engaged).toEqual([]);
  const records = await delivered();
  expect(records.map((r) => (r.document as { action: string }).action)).toEqual(['engage', 'release']);
});

/** The DSSE pre-authentication encoding of `body` (what the server asks the page to sign for evidence), base64. */
function evidenceAsk(body: string, payloadType = 'application/vnd.charter.evidence+json') {
  const enc = new TextEncoder();
  const type = enc.encode(payloadType);
  const payload = enc.encode(body);
  return {
    kind: 'evidence' as const,
    message: Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} ${body}`).toString('base64'),
  };
}

test('the page signs only what it shows: a token or evidence differing in any field is refused before the key is used', async () => {
  const req = open('award_contract');
  const other = open('award_contract', 'svc-spot-bidding', 'acme-s2');
  const key = await browserKey('alice');
  const step = await startApprovalAct(h.home, signing, alice, { id: req.id, decision: 'approve', keyId: key.keyId });
  if (!('ask' in step) || step.ask.kind !== 'token') throw new Error('expected a token to sign');
  const tokenAsk = step.ask;
  const refused = (intent: Intent, ask: Parameters<ReturnType<typeof actSigner>>[0]) =>
    expect(actSigner(key, intent)(ask)).rejects.toThrow(/^refused to sign: /);
  // The user clicked Deny; the server asks for an approval.
  await refused(approvalIntent(req, 'alice', 'deny', 'too expensive'), tokenAsk);
  // The page shows another request, tenant, signer; the server asks about this one.
  await refused(approvalIntent(other, 'alice'), tokenAsk);
  await refused(approvalIntent(req, 'bob'), tokenAsk);
  const claims = (change: Record<string, string | number>) => ({ ...tokenAsk, claims: { ...tokenAsk.claims, ...change } });
  await refused(approvalIntent(req, 'alice'), claims({ tenant: 'globex' }));
  await refused(approvalIntent(req, 'alice'), claims({ argsDigest: digestJson({ supplierId: 'acme-s9' }) }));
  await refused(approvalIntent(req, 'alice'), claims({ exp: Math.floor(Date.parse(req.expiresAt) / 1000) + 86_400 }));
  await refused(approvalIntent(req, 'alice'), claims({ scope: 'all' }));
  await refused(approvalIntent(req, 'alice'), { ...tokenAsk, header: { ...tokenAsk.header, kid: 'f'.repeat(64) } });
  // A kill-switch change signs no approval token.
  await refused({ act: 'kill-switch', action: 'engage', kind: 'tenant', id: 'acme', reason: 'x', signer: 'alice' }, tokenAsk);

  // The token as asked is signed; then the evidence, every field of which must be the act shown.
  const sign = actSigner(key, approvalIntent(req, 'alice'));
  const next = await signing.answer('alice', step.session, await sign(tokenAsk));
  if (!('ask' in next) || next.ask.kind !== 'evidence') throw new Error('expected evidence to sign');
  const message = Buffer.from(next.ask.message, 'base64').toString('utf8');
  const body = message.slice(message.indexOf('{'));
  const record = JSON.parse(body) as EvidenceRecord & { document: Record<string, unknown> };
  const remade = (change: (r: typeof record) => void, redigest = true) => {
    const r = structuredClone(record);
    change(r);
    if (redigest) r.digest = digestJson(r.document);
    return evidenceAsk(canonicalJson(r));
  };
  const request = record.document.request as Record<string, unknown>;
  for (const ask of [
    remade((r) => (r.document.decision = 'deny')),
    remade((r) => (r.document.request = { ...request, tenant: 'globex' })),
    remade((r) => (r.tenantId = 'globex')),
    remade((r) => (r.document.approver = 'bob')),
    remade((r) => (r.document.token = 'x.y.z')),
    remade((r) => (r.document.note = 'also approves everything')),
    remade((r) => (r.summary = 'alice approved everything')),
    remade((r) => (r.document.approvalId = other.id)),
    remade((r) => (r.document.request = { ...request, tool: 'terminate_supplier' }), false),
    evidenceAsk(body.replace('{"digest"', '{"decision":"deny","digest"')),
    evidenceAsk(body, 'application/vnd.charter.release+json'),
  ])
    await expect(sign(ask)).rejects.toThrow(/^refused to sign: /);
  // Nothing was written while the page refused; the evidence as asked completes the act.
  expect(h.approvals.get(req.id)).toMatchObject({ status: 'pending', approvals: [] });
  const done = await signing.answer('alice', next.session, await sign(next.ask));
  expect(done).toMatchObject({ done: { status: 'approved' } });
});

test('a kill-switch statement about another switch, action or reason than the one shown is refused', async () => {
  writeFileSync(join(h.home, 'tenants.yaml'), 'tenants:\n  acme: {}\n  globex: {}\n');
  const key = await browserKey('alice');
  const step = await startSwitchChange(h.home, signing, alice, { verb: 'engage', tenant: 'acme', reason: 'leak', keyId: key.keyId });
  if (!('ask' in step)) throw new Error('expected evidence to sign');
  const shown = { act: 'kill-switch', action: 'engage', kind: 'tenant', id: 'acme', reason: 'leak', signer: 'alice' } as const;
  for (const intent of [
    { ...shown, id: 'globex' },
    { ...shown, kind: 'agent' as const },
    { ...shown, action: 'release' as const, engaged: { by: 'alice', at: new Date().toISOString(), reason: 'leak' } },
    { ...shown, reason: 'routine' },
    { ...shown, signer: 'bob' },
  ])
    await expect(actSigner(key, intent)(step.ask)).rejects.toThrow(/^refused to sign: /);
  expect(killSwitches(h.home, alice).engaged).toEqual([]);
  const done = await signing.answer('alice', step.session, await actSigner(key, shown)(step.ask));
  expect(done).toMatchObject({ done: { kind: 'tenant', id: 'acme', action: 'engage' } });
});
