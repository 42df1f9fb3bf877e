import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { contentPath, FindingError } from '../common/index.js';
import { addTrustedKeys, digestJson, generateEd25519Key, LocalKeySigner, loadPrivateKey, loadTrustedKeys } from '../signing/index.js';
import { queryAudit, type DecisionRecord } from '../audit/index.js';
import {
  EnvelopeReceiver,
  IdentityVerifier,
  NonceStore,
  sealAgentMessage,
  serveGatewayHttp,
  signApprovalToken,
  UpstreamPool,
  type DecisionMeta,
  type GatewayCall,
  type GatewayDecision,
  type LoopbackMcp,
} from '../gateway/index.js';
import { FIXTURE_ENTITIES, openGatewayHarness, serveOverHttp, type GatewayHarness } from './gateway-harness.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

/** Attacks tried and refused per class (the describe block), for the README's count. */
const classes = new Map<string, { tried: number; refused: number }>();

/** An attack passes only when every assertion that it was refused holds. */
function attack(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    const cls = expect.getState().currentTestName?.split(' > ')[0] ?? '(none)';
    const count = classes.get(cls) ?? { tried: 0, refused: 0 };
    classes.set(cls, count);
    count.tried++;
    await fn();
    count.refused++;
  });
}

let h: GatewayHarness;
beforeAll(async () => {
  h = await openGatewayHarness();
});
afterAll(async () => {
  await h?.close();
  const all = [...classes.values()].reduce((a, c) => ({ tried: a.tried + c.tried, refused: a.refused + c.refused }), {
    tried: 0,
    refused: 0,
  });
  console.log(`${all.tried} attacks tried, ${all.refused} refused`);
  for (const [cls, c] of classes) console.log(`  ${cls}: ${c.tried} tried, ${c.refused} refused`);
});

/** Decides one call and checks it produced exactly one durable audit record. */
async function decide(call: Omit<GatewayCall, 'identity'> & { tenant?: string }, path = h.path): Promise<GatewayDecision> {
  // Approval evidence waiting from earlier approvals goes in first: it is not this decision's record.
  await path.recordApprovalEvidence();
  const before = h.audit.size;
  const d = await path.decide({ identity: h.identity(call.tenant ?? 'acme'), ...call });
  expect(d.seq).toBe(before);
  expect(h.audit.size).toBe(before + 1);
  expect(d.record.kind).toBe('decision');
  expect(d.record.manifestDigest).toBe(h.manifestDigest);
  expect(d.record.argsDigest).toBe(digestJson(d.args));
  return d;
}

function expectRefused(d: GatewayDecision, reason: RegExp): void {
  expect(d.blocked).toBe(true);
  expect(d.record.decision).toBe('deny');
  expect(d.record.reasons.join('\n')).toMatch(reason);
}

const bid = (over: Record<string, unknown> = {}) => ({
  negotiationId: 'acme-n1',
  supplierId: 'acme-s1',
  amountCents: 1000,
  shippingCents: 50,
  ...over,
});
const award = (supplierId = 'acme-s1') => ({ negotiationId: 'acme-n1', supplierId });

describe('tenant isolation', () => {
  attack('forged tenant_id in the arguments is denied and recorded', async () => {
    const d = await decide({ tool: 'submit_bid', args: bid({ tenant_id: 'globex' }) });
    expectRefused(d, /tenant mismatch: args.tenant_id is 'globex'/);
    expect(d.record.tenantId).toBe('acme');
  });

  attack('a forged tenant_id nested inside the arguments is denied', async () => {
    const d = await decide({ tool: 'list_suppliers', args: { category: 'x', filter: [{ tenant_id: 'globex' }] } });
    expectRefused(d, /tenant mismatch: args.filter\[0\].tenant_id/);
  });

  attack('a tenant A token on a tenant B resource is denied by tenant isolation', async () => {
    const d = await decide({ tool: 'submit_bid', args: bid({ negotiationId: 'globex-n1' }) });
    expectRefused(d, /deny by .*base.tenant-isolation/);
    expect(d.record.determiningPolicies).toContain('base.tenant-isolation');
    expect(d.record.resource).toBe('Procurement::Negotiation::"globex-n1"');
  });

  describe('every resource an argument names (shipped packs over MCP HTTP)', () => {
    // Held-out row tch-028: the negotiation is acme's, one supplier in the list is globex's.
    let shipped: GatewayHarness;
    let http: Awaited<ReturnType<typeof serveOverHttp>>;
    let client: Client;
    beforeAll(async () => {
      shipped = await openGatewayHarness({
        packsDir: contentPath('policy-packs', 'packs'),
        entitiesFile: [
          contentPath('policy-packs', 'packs', 'base', 'tests', 'fixtures.yaml'),
          contentPath('policy-packs', 'packs', 'domain', 'procurement', 'tests', 'fixtures.yaml'),
        ],
      });
      http = await serveOverHttp(shipped, 'Procurement', ['solicit_spot_bids']);
      client = new Client({ name: 'spot-bidding', version: '1.0.0' });
      const token = await http.idp.issue({ sub: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(http.gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
    });
    afterAll(async () => {
      await client?.close();
      await http?.close();
      await shipped?.close();
    });

    /** Solicits spot bids from the suppliers over HTTP; returns the decision and its record in the trail. */
    async function solicit(supplierIds: string[]): Promise<{ meta: DecisionMeta; record: DecisionRecord }> {
      const args = { tenant_id: 'acme', negotiationId: 'acme-neg-spot', supplierIds, amountCents: 400000, deadlineHours: 12 };
      const r = (await client.callTool({ name: 'solicit_spot_bids', arguments: args })) as CallToolResult;
      const meta = r._meta?.['charter/decision'] as DecisionMeta;
      await shipped.audit.flush();
      const records = await queryAudit({ dir: join(shipped.home, 'audit'), kind: 'decision', tenant: 'acme' });
      const record = records.find((x) => (x as DecisionRecord).id === meta.recordId) as DecisionRecord;
      expect(record).toMatchObject({ decision: meta.decision, tool: 'solicit_spot_bids', agentId: 'spot-bidding' });
      return { meta, record };
    }

    attack("a supplier list naming another tenant's supplier is denied, naming it, and recorded", async () => {
      const { meta, record } = await solicit(['acme-sup-approved', 'globex-sup-1']);
      expect(meta.decision).toBe('deny');
      expect(record.reasons.join('\n')).toMatch(
        /tenant mismatch: args.supplierIds\[1\] names Procurement::Supplier::"globex-sup-1" of tenant 'globex'/,
      );
      expect(http.upstream.received).toEqual([]);
    });

    attack('a supplier id that resolves to nothing is denied', async () => {
      const { meta, record } = await solicit(['acme-sup-approved', 'no-such-supplier']);
      expect(meta.decision).toBe('deny');
      expect(record.reasons.join('\n')).toMatch(/unknown entity: args.supplierIds\[1\] names Procurement::Supplier::"no-such-supplier"/);
      expect(http.upstream.received).toEqual([]);
    });

    test("a list of the caller's own suppliers is still allowed", async () => {
      const { meta } = await solicit(['acme-sup-approved']);
      expect(meta).toMatchObject({ decision: 'allow', outcome: 'guarded' });
    });
  });

  test('tenant_id is written from the claim when the caller leaves it out', async () => {
    const d = await decide({ tool: 'list_suppliers', args: {} });
    expect(d.outcome).toBe('allowed');
    expect(d.args.tenant_id).toBe('acme');
  });
});

describe('approvals', () => {
  async function approvedAward(supplierId: string, approvers: Array<'alice' | 'bob'>): Promise<{ id: string; tokens: string[] }> {
    const pending = await decide({ tool: 'award_contract', args: award(supplierId) });
    expect(pending.outcome).toBe('approval-pending');
    const id = pending.approvalRequest!.id;
    let req = h.approvals.get(id);
    for (const a of approvers) req = await h.approvals.approve(id, h.approver(a));
    return { id, tokens: req.approvals.map((a) => a.token) };
  }

  test('an approved write-high call passes once, with the approval recorded', async () => {
    const { id } = await approvedAward('acme-s1', ['alice']);
    const d = await decide({ tool: 'award_contract', args: award('acme-s1') });
    expect(d.outcome).toBe('approved');
    expect(d.record.approvals).toEqual([{ approvalId: id, approver: 'alice' }]);
  });

  attack('an approval token used a second time is refused', async () => {
    const { tokens } = await approvedAward('acme-s2', ['alice']);
    expect((await decide({ tool: 'award_contract', args: award('acme-s2'), approvalTokens: tokens })).outcome).toBe('approved');
    const replay = await decide({ tool: 'award_contract', args: award('acme-s2'), approvalTokens: tokens });
    expectRefused(replay, /already used/);
  });

  attack('an approval token used for other arguments is refused', async () => {
    const { tokens } = await approvedAward('acme-s3', ['alice']);
    const d = await decide({ tool: 'award_contract', args: award('acme-s4'), approvalTokens: tokens });
    expectRefused(d, /bound to argsDigest/);
    expect(d.record.approvals).toEqual([]);
  });

  attack('an approval token used for another tool is refused', async () => {
    const { tokens } = await approvedAward('acme-s5', ['alice', 'bob']);
    const d = await decide({ tool: 'terminate_supplier', args: { supplierId: 'acme-s1', reason: 'fraud' }, approvalTokens: tokens });
    expectRefused(d, /bound to tool 'award_contract'/);
  });

  attack('one approver cannot satisfy a critical tool, even with two tokens', async () => {
    const args = { supplierId: 'acme-s1', reason: 'fraud' };
    const pending = await decide({ tool: 'terminate_supplier', args });
    expect(pending.outcome).toBe('approval-pending');
    expect(pending.approvalRequest!.required).toBe(2);
    const id = pending.approvalRequest!.id;
    await h.approvals.approve(id, h.approver('alice'));
    await expect(h.approvals.approve(id, h.approver('alice'))).rejects.toThrow(/already approved/);
    const req = h.approvals.get(id);
    // Alice mints a second token herself, and one that claims to be Bob's.
    const second = await signApprovalToken(req, h.approver('alice'), Date.parse(req.expiresAt));
    const posing = await signApprovalToken(req, { ...h.approver('alice'), name: 'bob' }, Date.parse(req.expiresAt));
    const d = await decide({ tool: 'terminate_supplier', args, approvalTokens: [second.token, posing.token] });
    expectRefused(d, /needs 2 distinct approver\(s\), the call has 1/);
    expect(d.record.reasons.join('\n')).toMatch(/names approver 'bob' but is signed by the key of 'alice'/);
  });

  attack('an approval signed by an untrusted key does not count', async () => {
    const args = { supplierId: 'acme-s1', reason: 'audit finding' };
    const pending = await decide({ tool: 'terminate_supplier', args });
    const id = pending.approvalRequest!.id;
    await h.approvals.approve(id, h.approver('alice'));
    await h.approvals.approve(id, h.approver('mallory'));
    const d = await decide({ tool: 'terminate_supplier', args });
    expectRefused(d, /not trusted for approval/);
  });

  attack('a denied request withdraws the tokens already issued for it', async () => {
    const { id, tokens } = await approvedAward('acme-s6', ['alice']);
    await h.approvals.deny(id, h.approver('bob'), 'wrong supplier');
    const d = await decide({ tool: 'award_contract', args: award('acme-s6'), approvalTokens: tokens });
    expectRefused(d, /was denied or expired/);
  });

  test('each approve and deny is evidence in the trail, before the decision that uses the approval', async () => {
    const args = award('acme-s7');
    const pending = await h.path.decide({ identity: h.identity('acme'), tool: 'award_contract', args });
    const id = pending.approvalRequest!.id;
    await h.approvals.approve(id, h.approver('alice'));
    expect(h.approvals.evidence.pending()).toHaveLength(1);
    const used = await h.path.decide({ identity: h.identity('acme'), tool: 'award_contract', args });
    expect(used.outcome).toBe('approved');
    expect(h.approvals.evidence.pending()).toEqual([]);

    const denied = await approvedAward('acme-s8', []);
    await h.approvals.deny(denied.id, h.approver('bob'), 'not this supplier');
    await h.path.recordApprovalEvidence();

    await h.audit.flush();
    const evidence = (await queryAudit({ dir: join(h.home, 'audit'), kind: 'evidence', tenant: 'acme' })).flatMap((r) =>
      r.kind === 'evidence' ? [r] : [],
    );
    const act = (approvalId: string) => evidence.find((r) => r.subject === `approval:${approvalId}`)!;
    const approval = act(id);
    expect(approval).toMatchObject({ evidenceType: 'approval', tenantId: 'acme', digest: digestJson(approval.document) });
    expect(approval.document).toMatchObject({
      approvalId: id,
      decision: 'approve',
      approver: 'alice',
      request: { tenant: 'acme', agent: 'spot-bidding', tool: 'award_contract', argsDigest: used.record.argsDigest },
      statusAfter: 'approved',
    });
    // The document carries the token alice signed: the evidence proves her consent by itself.
    expect((approval.document as { token: string }).token).toBe(h.approvals.get(id).approvals[0]!.token);
    expect(approval.seq).toBeLessThan(used.seq!);
    expect(used.record.approvals).toEqual([{ approvalId: id, approver: 'alice' }]);
    expect(act(denied.id).document).toMatchObject({
      approvalId: denied.id,
      decision: 'deny',
      approver: 'bob',
      reason: 'not this supplier',
      statusAfter: 'denied',
    });
  });

  test('two distinct approvers pass a critical tool', async () => {
    const args = { supplierId: 'acme-s1', reason: 'contract breach' };
    const id = (await decide({ tool: 'terminate_supplier', args })).approvalRequest!.id;
    await h.approvals.approve(id, h.approver('alice'));
    await h.approvals.approve(id, h.approver('bob'));
    const d = await decide({ tool: 'terminate_supplier', args });
    expect(d.outcome).toBe('approved');
    expect(d.record.approvals.map((a) => a.approver).sort()).toEqual(['alice', 'bob']);
  });
});

describe('manifest and policy failures', () => {
  attack('a tampered manifest stops the gateway from starting', async () => {
    const env = JSON.parse(readFileSync(h.manifestFile, 'utf8')) as { payload: string };
    const payload = Buffer.from(env.payload, 'base64').toString('utf8').replace('distinctApprovers >= 2', 'distinctApprovers >= 0');
    expect(payload).toContain('distinctApprovers >= 0');
    const tampered = join(h.home, 'manifests', 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...env, payload: Buffer.from(payload).toString('base64') }));
    expect(() => h.reopen({ manifestFile: tampered })).toThrow(FindingError);
    expect(() => h.reopen({ manifestFile: tampered })).toThrow(/0 valid signature\(s\)/);
  });

  attack('a Cedar evaluation error (Long overflow in a guard) is a deny', async () => {
    const d = await decide({ tool: 'submit_bid', args: bid({ amountCents: 9e18, shippingCents: 9e18 }) });
    expectRefused(d, /errored during evaluation \(fail closed\)/);
    expect(d.record.errors.join('\n')).toMatch(/procurement.bid-cap.*overflow/i);
  });

  attack('a request Cedar cannot evaluate (tenant without limits) is a deny', async () => {
    const d = await decide({ tenant: 'initech', tool: 'submit_bid', args: bid({ negotiationId: 'initech-n1' }) });
    expectRefused(d, /could not be evaluated \(fail closed\)/);
    expect(d.record.errors.length).toBeGreaterThan(0);
  });

  attack('a tool outside the manifest is not listed and is denied when called', async () => {
    expect(h.path.toolsFor('spot-bidding').map((t) => t.name)).not.toContain('update_tenant_config');
    const d = await decide({ tool: 'update_tenant_config', args: { key: 'maxBidCents', value: '99999999' } });
    expectRefused(d, /unknown tool 'update_tenant_config'/);
    expect(d.record.tier).toBeNull();
  });

  attack('arguments outside the tool contract are denied', async () => {
    const d = await decide({ tool: 'submit_bid', args: bid({ amountCents: -5, note: 'x' }) });
    expectRefused(d, /violate the contract/);
    expect(d.record.errors).toEqual(
      expect.arrayContaining(['args.amountCents: must be >= 0', "args: must NOT have additional properties 'note'"]),
    );
  });

  attack('a guarded write over the tenant limit is denied', async () => {
    const d = await decide({ tool: 'submit_bid', args: bid({ amountCents: 499_999, shippingCents: 2 }) });
    // The cap is a domain forbid (only intent packs permit), so it names itself.
    expectRefused(d, /deny by procurement\.bid-cap/);
  });
});

describe('kill switches', () => {
  /** The fixture entity data with some lines edited, as a file in the harness home. */
  function entitiesWith(name: string, edit: (text: string) => string): string {
    const text = readFileSync(FIXTURE_ENTITIES, 'utf8');
    const edited = edit(text);
    expect(edited).not.toBe(text);
    const file = join(h.home, `${name}.entities.yaml`);
    writeFileSync(file, edited);
    return file;
  }

  attack('a tenant missing from the entity data is denied: its kill switch state is unknown', async () => {
    const d = await decide({ tenant: 'hooli', tool: 'list_suppliers', args: {} });
    expectRefused(d, /kill switch state of tenant 'hooli' is unknown \(the entity data has no Charter::Tenant::"hooli"\)/);
    expect(d.record.tenantId).toBe('hooli');
  });

  attack('a tenant record without a suspended attribute is denied, even for a read', async () => {
    const file = entitiesWith('tenant-unstated', (t) =>
      t.replace(`'Charter::Tenant::"acme"', attrs: { suspended: false }`, `'Charter::Tenant::"acme"'`),
    );
    const d = await decide({ tool: 'list_suppliers', args: {} }, h.reopen({ entitiesFile: file }));
    expectRefused(d, /kill switch state of tenant 'acme' is unknown \(Charter::Tenant::"acme" has no boolean 'suspended' attribute\)/);
  });

  attack('entity data that lost the agent record denies the agent', async () => {
    const file = entitiesWith('agent-missing', (t) => t.replace(/^.*Charter::Agent::"spot-bidding".*\n/m, ''));
    const d = await decide({ tool: 'list_suppliers', args: {} }, h.reopen({ entitiesFile: file }));
    expectRefused(d, /kill switch state of agent 'spot-bidding' is unknown/);
  });

  attack('a suspended tenant is denied by the packs, with any approvals', async () => {
    const d = await decide({ tenant: 'umbrella', tool: 'submit_bid', args: bid({ negotiationId: 'umbrella-n1' }) });
    expectRefused(d, /deny by base.suspended-tenant/);
    expect(d.record.determiningPolicies).toEqual(['base.suspended-tenant']);
  });

  attack('a suspended agent is denied by the packs', async () => {
    const file = entitiesWith('agent-suspended', (t) =>
      t.replace(
        `'Charter::Agent::"spot-bidding"', attrs: { suspended: false }`,
        `'Charter::Agent::"spot-bidding"', attrs: { suspended: true }`,
      ),
    );
    const d = await decide({ tool: 'list_suppliers', args: {} }, h.reopen({ entitiesFile: file }));
    expectRefused(d, /deny by base.suspended-agent/);
  });
});

describe('LOG_ONLY', () => {
  attack('LOG_ONLY never blocks but records every deny', async () => {
    const logOnly = h.reopen({ mode: 'LOG_ONLY' });
    const calls: Array<Omit<GatewayCall, 'identity'>> = [
      { tool: 'submit_bid', args: bid({ negotiationId: 'globex-n1' }) },
      { tool: 'submit_bid', args: bid({ tenant_id: 'globex' }) },
      { tool: 'update_tenant_config', args: { key: 'k', value: 'v' } },
      { tool: 'award_contract', args: award('acme-s9') },
    ];
    for (const call of calls) {
      const d = await decide(call, logOnly);
      expect(d.blocked).toBe(false);
      expect(d.record.decision).toBe('deny');
      expect(d.record.mode).toBe('LOG_ONLY');
    }
  });
});

describe('agent-to-agent envelopes', () => {
  let receiver: EnvelopeReceiver;
  let signer: LocalKeySigner;
  let impostor: LocalKeySigner;
  const message = () => ({
    agent_id: 'spot-bidding',
    tenant_id: 'acme',
    recipient: 'bid-evaluation',
    trace_id: 'trace-1',
    policy_context: h.manifestDigest,
    action: 'evaluate_bids',
    body: { negotiationId: 'acme-n1' },
    ttl: 30,
  });

  beforeAll(() => {
    const keysDir = join(h.home, 'keys');
    const sender = generateEd25519Key(keysDir, 'spot-bidding', ['agent-envelope']);
    const other = generateEd25519Key(keysDir, 'leverage-auction', ['agent-envelope']);
    addTrustedKeys(h.trustedKeysFile, [sender.trusted, other.trusted]);
    signer = new LocalKeySigner(loadPrivateKey(sender.privateKeyFile));
    impostor = new LocalKeySigner(loadPrivateKey(other.privateKeyFile));
    receiver = new EnvelopeReceiver(
      {
        recipient: 'bid-evaluation',
        trustedKeys: loadTrustedKeys(h.trustedKeysFile),
        senders: { 'spot-bidding': { actions: ['evaluate_bids'] } },
        maxTtlSeconds: 60,
      },
      NonceStore.open(':memory:'),
    );
  });

  /** The receiver expects acme's messages under the sender's current manifest. */
  const expected = { tenant: 'acme', policyContext: '' };
  beforeAll(() => {
    expected.policyContext = h.manifestDigest;
  });

  test('a fresh envelope is accepted once', async () => {
    const msg = receiver.receive(await sealAgentMessage(message(), signer), expected);
    expect(msg.agent_id).toBe('spot-bidding');
  });

  attack('a replayed envelope is refused', async () => {
    const env = await sealAgentMessage(message(), signer);
    receiver.receive(env, expected);
    expect(() => receiver.receive(env, expected)).toThrow(/replayed/);
  });

  attack('an expired envelope is refused', async () => {
    const env = await sealAgentMessage({ ...message(), iat: Math.floor(Date.now() / 1000) - 120 }, signer);
    expect(() => receiver.receive(env, expected)).toThrow(/expired/);
  });

  attack('a tampered envelope is refused', async () => {
    const env = await sealAgentMessage(message(), signer);
    const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    const forged = {
      ...env,
      payload: Buffer.from(JSON.stringify({ ...payload, tenant_id: 'acme', body: { negotiationId: 'globex-n1' } })).toString('base64'),
    };
    expect(() => receiver.receive(forged, expected)).toThrow(/0 valid signature\(s\)/);
  });

  attack('an envelope for another tenant is refused', async () => {
    await expect(
      sealAgentMessage({ ...message(), tenant_id: 'globex' }, signer).then((e) => receiver.receive(e, expected)),
    ).rejects.toThrow(/crosses the boundary/);
  });

  attack('an agent signing as another agent is refused', async () => {
    await expect(sealAgentMessage(message(), impostor).then((e) => receiver.receive(e, expected))).rejects.toThrow(
      /claims agent 'spot-bidding' but is signed by leverage-auction/,
    );
  });

  attack('an action outside the sender contract, or a stale policy_context, is refused', async () => {
    await expect(
      sealAgentMessage({ ...message(), action: 'award_contract' }, signer).then((e) => receiver.receive(e, expected)),
    ).rejects.toThrow(/not in the contract/);
    await expect(
      sealAgentMessage({ ...message(), policy_context: digestJson('old') }, signer).then((e) => receiver.receive(e, expected)),
    ).rejects.toThrow(/not the expected manifest/);
  });

  attack('an envelope addressed to another agent is refused', async () => {
    await expect(
      sealAgentMessage({ ...message(), recipient: 'award-communications' }, signer).then((e) => receiver.receive(e, expected)),
    ).rejects.toThrow(/addressed to 'award-communications', this receiver is 'bid-evaluation'/);
  });
});

describe('malformed calls over MCP HTTP', () => {
  let idp: JwksServer;
  let upstream: ToolServer;
  let pool: UpstreamPool;
  let gateway: LoopbackMcp;
  let token: string;

  beforeAll(async () => {
    idp = await startJwksServer();
    const tools = h.path.toolsFor('spot-bidding').map((t) => t.name);
    upstream = await startToolServer(tools);
    pool = new UpstreamPool(Object.fromEntries(tools.map((t) => [t, upstream.url])));
    gateway = await serveGatewayHttp(
      h.path,
      pool,
      IdentityVerifier.fromConfig({ jwks: idp.url, issuer: idp.issuer, audience: idp.audience }),
    );
    token = await idp.issue({ sub: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' });
  });
  afterAll(async () => {
    await gateway?.close();
    await pool?.close();
    await upstream?.close();
    await idp?.close();
  });

  const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const rpc = (params: unknown, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params });

  /** POSTs a raw body as the authenticated agent and returns the decision records it left in the trail. */
  async function post(body: string, headers: Record<string, string> = MCP_HEADERS): Promise<{ status: number; records: DecisionRecord[] }> {
    await h.path.recordApprovalEvidence();
    await h.audit.flush();
    const before = h.audit.size;
    const res = await fetch(gateway.url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}` }, body });
    await res.text();
    // A call the transport answers before the handler is recorded right after the answer.
    await expect.poll(() => h.audit.size, { timeout: 5000 }).toBeGreaterThan(before);
    await h.audit.flush();
    const records = (await queryAudit({ dir: join(h.home, 'audit'), kind: 'decision', tenant: 'acme' })).filter((r) => r.seq >= before);
    expect(h.audit.size - before).toBe(records.length);
    return { status: res.status, records: records as DecisionRecord[] };
  }

  /** Exactly one record, a deny of the acme caller whose reasons match. */
  async function oneDeny(body: string, reason: RegExp, headers?: Record<string, string>): Promise<DecisionRecord> {
    const { records } = await post(body, headers);
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r).toMatchObject({ decision: 'deny', tenantId: 'acme', agentId: 'spot-bidding', principal: 'svc-spot-bidding' });
    expect(r.reasons.join('\n')).toMatch(reason);
    return r;
  }

  attack('20,000 nested arrays in the arguments: denied at the depth bound, one record', async () => {
    // Too deep for JSON.stringify too: the body is written by hand.
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_suppliers","arguments":{"category":${deep}}}}`;
    const r = await oneDeny(body, /nest deeper than 32 levels \(maxDepth, at args.category(\[0\]){31}\)/);
    expect(r).toMatchObject({ tool: 'list_suppliers', tier: 'read', argsDigest: digestJson({}) });
  });

  attack('arguments over the text bound: denied naming the bound, one record', async () => {
    await oneDeny(JSON.stringify(rpc({ name: 'list_suppliers', arguments: { category: 'x'.repeat(300_000) } })), /maxTextChars/);
  });

  attack('arguments with more values than the bound: denied, one record', async () => {
    await oneDeny(JSON.stringify(rpc({ name: 'list_suppliers', arguments: { category: Array(20_000).fill(0) } })), /maxValues/);
  });

  attack('a body over the size limit: refused unread (413), one record', async () => {
    const { status, records } = await post(JSON.stringify(rpc({ name: 'list_suppliers', arguments: { category: 'x'.repeat(2_000_000) } })));
    expect(status).toBe(413);
    expect(records).toHaveLength(1);
    expect(records[0]!.reasons[0]).toMatch(/exceeds 1048576 bytes/);
  });

  attack('arguments that are not an object (array, string, number, null): one record each', async () => {
    for (const args of [[1, 2], 'x', 5, null]) {
      const r = await oneDeny(JSON.stringify(rpc({ name: 'submit_bid', arguments: args })), /malformed tools\/call \(params.arguments/);
      expect(r.tool).toBe('submit_bid');
    }
  });

  attack('a missing, empty, non-string or huge tool name: one record each, the name cut or (none)', async () => {
    expect((await oneDeny(JSON.stringify(rpc({ arguments: {} })), /malformed tools\/call \(params.name/)).tool).toBe('(none)');
    expect((await oneDeny(JSON.stringify(rpc({ name: 7, arguments: {} })), /malformed tools\/call/)).tool).toBe('(none)');
    expect((await oneDeny(JSON.stringify(rpc({ name: '', arguments: {} })), /tool name must be a non-empty string/)).tool).toBe('(none)');
    const long = await oneDeny(JSON.stringify(rpc({ name: 'a'.repeat(100_000), arguments: {} })), /longer than 128 characters/);
    expect(long.tool).toHaveLength(129);
  });

  attack('an unknown tool: one record', async () => {
    await oneDeny(JSON.stringify(rpc({ name: 'update_tenant_config', arguments: {} })), /unknown tool 'update_tenant_config'/);
  });

  attack('a body that is not JSON, or JSON that is not JSON-RPC: one record each', async () => {
    const { status } = await post('{"jsonrpc": "2.0", "method": "tools/call", ');
    expect(status).toBe(400);
    await oneDeny('{"jsonrpc": "2.0", "method": "tools/call", ', /not JSON/);
    await oneDeny(JSON.stringify({ method: 'tools/call', params: { name: 'submit_bid', arguments: {} } }), /not a JSON-RPC 2.0 message/);
    await oneDeny('[]', /empty JSON-RPC batch/);
  });

  attack('a batch with a malformed call refuses, and records, every call in it', async () => {
    const body = JSON.stringify([rpc({ name: 'list_suppliers', arguments: {} }, 1), rpc({ name: 'list_suppliers', arguments: 'x' }, 2)]);
    const reached = upstream.received.length;
    const { records } = await post(body);
    expect(records.map((r) => r.decision)).toEqual(['deny', 'deny']);
    expect(records.map((r) => r.reasons[0]).join('\n')).toMatch(
      /refused with a malformed message in the same batch[\s\S]*malformed tools\/call/,
    );
    expect(upstream.received.length).toBe(reached);
  });

  attack('a call the MCP transport refuses before the handler (no event-stream in Accept): one record', async () => {
    await oneDeny(
      JSON.stringify(rpc({ name: 'list_suppliers', arguments: {} })),
      /MCP transport answered HTTP 406 before the call was decided/,
      {
        'content-type': 'application/json',
        accept: 'application/json',
      },
    );
  });

  attack('arguments with a throwing getter or a class instance (in process): denied, one record', async () => {
    const getter = Object.defineProperty({}, 'category', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expectRefused(await decide({ tool: 'list_suppliers', args: getter }), /arguments could not be read: boom/);
    expectRefused(
      await decide({ tool: 'list_suppliers', args: { category: new Date(0) } }),
      /args.category is not JSON data \(an object of class Date\)/,
    );
    expectRefused(await decide({ tool: 'list_suppliers', args: { category: NaN } }), /not a finite number/);
    const d = await decide({ tool: '', args: {}, traceId: '' });
    expectRefused(d, /tool name must be a non-empty string/);
    expect(d.record.tool).toBe('(none)');
  });

  test('a well-formed call and a tools/list: one record for the call, none for the list', async () => {
    const { records } = await post(JSON.stringify(rpc({ name: 'list_suppliers', arguments: { category: 'steel' } })));
    expect(records.map((r) => r.decision)).toEqual(['allow']);
    const before = h.audit.size;
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }),
    });
    expect(((await res.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    expect(h.audit.size).toBe(before);
  });
});
