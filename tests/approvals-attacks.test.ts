import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { contentPath } from '../common/index.js';
import { digestJson, LocalKeySigner, signEnvelope, canonicalJson, loadPrivateKey, loadTrustedKeys } from '../signing/index.js';
import { evidenceRecord, queryAudit, type AuditRecord } from '../audit/index.js';
import {
  ApprovalRequest,
  approverKey,
  EVIDENCE_PAYLOAD_TYPE,
  IdentityVerifier,
  serveGatewayHttp,
  signApprovalToken,
  UpstreamPool,
  type DecisionMeta,
  type DecisionPath,
  type LoopbackMcp,
} from '../gateway/index.js';
import { FIXTURE_APPROVERS, FIXTURE_PACKS, openGatewayHarness, type GatewayHarness } from './gateway-harness.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

/**
 * Attacks on the trust seams around approvals, evidence and operator input (issue 12, items 4,
 * 5, 7 and 9), each through the interface an attacker or a careless operator would use: the
 * built CLI on a temporary CHARTER_HOME, files dropped in that home, and the gateway over MCP
 * Streamable HTTP. The count per class is printed at the end (the README quotes it).
 */
const CLI = contentPath('dist', 'cli', 'main.js');
const TOOLS = ['list_suppliers', 'submit_bid', 'award_contract', 'terminate_supplier', 'update_tenant_config'];

const counts = new Map<string, { tried: number; refused: number }>();
/** An attack counts as refused only when every assertion that it was refused holds. */
function attack(cls: string, name: string, fn: () => Promise<void> | void): void {
  test(
    name,
    async () => {
      const c = counts.get(cls) ?? { tried: 0, refused: 0 };
      counts.set(cls, c);
      c.tried++;
      await fn();
      c.refused++;
    },
    240_000, // CLI processes are slow on a loaded machine
  );
}

let h: GatewayHarness;
let idp: JwksServer;
let upstream: ToolServer;
let pool: UpstreamPool;
let gateway: LoopbackMcp;
let path: DecisionPath;

beforeAll(async () => {
  h = await openGatewayHarness();
  // An operator key (kill switches), trusted before the gateway reads the trusted keys.
  expect(charter('keys', 'generate', '--name', 'oncall', '--purpose', 'operator').code).toBe(0);
  // Approvers with a narrower scope than alice and bob (who approve for every tenant), and erin,
  // whose approval key is trusted but who is declared nowhere in approvers.yaml.
  for (const name of ['carol', 'dave', 'erin']) expect(charter('keys', 'generate', '--name', name, '--purpose', 'approval').code).toBe(0);
  writeFileSync(
    h.approversFile,
    FIXTURE_APPROVERS +
      '  carol: { tenants: [globex], spendLimitCents: 100000000, roles: [approver] }\n' +
      '  dave: { tenants: [acme], spendLimitCents: 100000, roles: [approver] }\n',
  );
  path = h.reopen();
  idp = await startJwksServer();
  upstream = await startToolServer(TOOLS, () => 0);
  pool = new UpstreamPool(Object.fromEntries(TOOLS.map((t) => [t, upstream.url])));
  gateway = await serveGatewayHttp(path, pool, IdentityVerifier.fromConfig({ jwks: idp.url, issuer: idp.issuer, audience: idp.audience }));
  // The home's tenant configuration: what `charter killswitch` checks tenant ids against.
  writeFileSync(join(h.home, 'tenants.yaml'), 'tenants:\n  acme: {}\n  globex: {}\n');
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await pool?.close();
  await upstream?.close();
  await idp?.close();
  await h?.close();
  const lines = [...counts].map(([cls, c]) => `${cls}: ${c.refused}/${c.tried}`);
  console.log(`approval and operator-input attacks refused per class: ${lines.join('; ')}`);
});

/** The built CLI on the harness home. */
function charter(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: h.home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const keyFile = (name: string) => join(h.home, 'keys', `${name}.key.pem`);

/** An agent over MCP Streamable HTTP whose verified principal is `sub`. */
async function agentAs(sub: string): Promise<Client> {
  const token = await idp.issue({ sub, tenantId: 'acme', agentId: 'spot-bidding' });
  const client = new Client({ name: 'attacker', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const meta = (r: CallToolResult) => r._meta?.['charter/decision'] as DecisionMeta & { reasons?: string[] };
async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A pending approval request opened by the gateway for one call of `principal`. */
async function pendingRequest(principal: string, tool: string, args: Record<string, unknown>): Promise<string> {
  const client = await agentAs(principal);
  const r = await call(client, tool, args);
  await client.close();
  expect(meta(r).outcome).toBe('approval-pending');
  return meta(r).approvalRequest!.id;
}

async function trail(): Promise<AuditRecord[]> {
  await h.audit.flush();
  return queryAudit({ dir: join(h.home, 'audit') });
}

/** The reasons of the decision record a call left in the trail. */
async function reasonsOf(r: CallToolResult): Promise<string> {
  const record = (await trail()).find((x) => x.id === meta(r).recordId);
  return record?.kind === 'decision' ? record.reasons.join('\n') : '(no decision record)';
}

describe('approvals: who approves is the key, not a flag', () => {
  attack('approvals', '`approve --as bob --key alice.key.pem` records nothing, and never "bob approved"', async () => {
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', { negotiationId: 'acme-n1', supplierId: 'acme-s1' });
    const r = charter('approvals', 'approve', id, '--as', 'bob', '--key', keyFile('alice'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--as 'bob' but the key is 'alice'/);
    expect(h.approvals.get(id).approvals).toEqual([]);
    // Without --as the name comes from the trusted-keys entry of the key.
    const ok = JSON.parse(charter('approvals', 'approve', id, '--key', keyFile('alice'), '--json').stdout) as { request: ApprovalRequest };
    expect(ok.request.approvals.map((a) => a.approver)).toEqual(['alice']);
  });

  attack('approvals', 'a key not trusted for approval approves nothing (untrusted, or trusted for another purpose)', () => {
    const id = h.approvals.request({
      tenant: 'acme',
      agent: 'spot-bidding',
      tool: 'award_contract',
      tier: 'write-high',
      args: { negotiationId: 'acme-n1', supplierId: 'acme-s9' },
      argsDigest: digestJson({ negotiationId: 'acme-n1', supplierId: 'acme-s9', tenant_id: 'acme' }),
      requestedBy: 'svc-spot-bidding',
      ttlSeconds: 600,
    }).id;
    for (const key of ['mallory', 'manifest-signer', 'oncall']) {
      const r = charter('approvals', 'approve', id, '--key', keyFile(key));
      expect(r.code, key).toBe(1);
      expect(r.stderr).toMatch(/not in the trusted-keys file|not for approval/);
    }
    expect(h.approvals.get(id).approvals).toEqual([]);
  });

  attack('approvals', '`approvals deny --as bob` without a key is refused; a deny is signed by the denier and names them', async () => {
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', { negotiationId: 'acme-n1', supplierId: 'acme-s2' });
    const unsigned = charter('approvals', 'deny', id, '--as', 'bob', '--reason', 'no');
    expect(unsigned.code).toBe(2);
    expect(h.approvals.get(id).status).toBe('pending');
    expect(charter('approvals', 'deny', id, '--as', 'bob', '--key', keyFile('alice'), '--reason', 'no').code).toBe(2);
    expect(charter('approvals', 'deny', id, '--key', keyFile('bob'), '--reason', 'wrong supplier').code).toBe(0);
    const denial = h.approvals.get(id).denials[0]!;
    expect(denial).toMatchObject({ approver: 'bob', reason: 'wrong supplier', token: expect.any(String) });
    // The denial token is no approval token: presented as one it does not count.
    const client = await agentAs('svc-spot-bidding');
    const r = (await client.callTool({
      name: 'award_contract',
      arguments: { negotiationId: 'acme-n1', supplierId: 'acme-s2' },
      _meta: { 'charter/approvalTokens': [denial.token] },
    })) as CallToolResult;
    await client.close();
    expect(meta(r).outcome).not.toBe('approved');
    expect(await reasonsOf(r)).toMatch(/unexpected "typ"/);
  });

  attack('approvals', 'the requester cannot approve their own request (CLI request, CLI approve)', () => {
    const opened = charter(
      'approvals',
      'request',
      '--tenant',
      'acme',
      '--agent',
      'spot-bidding',
      '--tool',
      'award_contract',
      '--args',
      '{"negotiationId":"acme-n1","supplierId":"acme-s3"}',
      '--as',
      'alice',
      '--packs',
      FIXTURE_PACKS,
      '--json',
    );
    expect(opened.code, opened.stderr).toBe(0);
    const id = (JSON.parse(opened.stdout) as { request: ApprovalRequest }).request.id;
    const self = charter('approvals', 'approve', id, '--key', keyFile('alice'));
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/requester cannot approve their own request/);
    expect(h.approvals.get(id).approvals).toEqual([]);
  });

  attack('approvals', 'the gateway refuses a token whose approver is the caller, even when the request file was edited', async () => {
    const args = { negotiationId: 'acme-n1', supplierId: 'acme-s4' };
    const id = await pendingRequest('alice', 'award_contract', args);
    // Someone with write access to the approvals folder hides who asked, so the store lets alice approve.
    const file = join(h.home, 'approvals', `${id}.json`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"requestedBy": "alice"', '"requestedBy": "someone-else"'));
    expect(charter('approvals', 'approve', id, '--key', keyFile('alice')).code).toBe(0);
    const client = await agentAs('alice');
    const r = await call(client, 'award_contract', args);
    await client.close();
    expect(meta(r).outcome).not.toBe('approved');
    expect(await reasonsOf(r)).toMatch(/approver 'alice' is the requester/);
    expect(upstream.received.some((c) => c.tool === 'award_contract' && c.args.supplierId === 'acme-s4')).toBe(false);
  });

  attack('approvals', 'dual approval needs two people: one key twice, or one key posing as two, stays one approver', async () => {
    const args = { supplierId: 'acme-s1', reason: 'fraud' };
    const id = await pendingRequest('svc-spot-bidding', 'terminate_supplier', args);
    expect(charter('approvals', 'approve', id, '--key', keyFile('alice')).code).toBe(0);
    expect(charter('approvals', 'approve', id, '--key', keyFile('alice'))).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/already approved/),
    });
    expect(charter('approvals', 'approve', id, '--as', 'bob', '--key', keyFile('alice')).code).toBe(2);
    expect(h.approvals.get(id)).toMatchObject({ status: 'pending', approvals: [expect.objectContaining({ approver: 'alice' })] });
    const client = await agentAs('svc-spot-bidding');
    expect(meta(await call(client, 'terminate_supplier', args)).outcome).toBe('approval-pending');
    expect(charter('approvals', 'approve', id, '--key', keyFile('bob')).code).toBe(0);
    expect(meta(await call(client, 'terminate_supplier', args)).outcome).toBe('approved');
    await client.close();
  });
});

describe('approver scope: who may approve what is decided by Cedar over the packs, at approve and again at the gateway', () => {
  const SCOPE = 'approver scope';
  /** A token signed with `name`'s own key for request `id`, without the CLI and its check (what a forger holding the key can do). */
  async function tokenOf(name: string, id: string): Promise<string> {
    const signer = approverKey(loadPrivateKey(keyFile(name)), loadTrustedKeys(h.trustedKeysFile));
    return (await signApprovalToken(h.approvals.get(id), signer, Date.now() + 600_000)).token;
  }
  /** The call with tokens presented in its MCP _meta, as the agent `svc-spot-bidding` of acme. */
  async function callWith(tool: string, args: Record<string, unknown>, tokens: string[]): Promise<CallToolResult> {
    const client = await agentAs('svc-spot-bidding');
    const r = (await client.callTool({ name: tool, arguments: args, _meta: { 'charter/approvalTokens': tokens } })) as CallToolResult;
    await client.close();
    return r;
  }
  const forwarded = (supplierId: string) => upstream.received.some((c) => c.args.supplierId === supplierId);

  attack(SCOPE, 'an approver not scoped to the tenant is refused at approve, and the signed refusal reaches the trail', async () => {
    const args = { negotiationId: 'acme-n1', supplierId: 'acme-scope-1' };
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', args);
    const r = charter('approvals', 'approve', id, '--key', keyFile('carol'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/approver 'carol' may not approve award_contract for tenant acme: deny by base\.approver-tenant-scope/);
    expect(h.approvals.get(id)).toMatchObject({ status: 'pending', approvals: [] });
    expect(meta(await callWith('award_contract', args, [])).outcome).toBe('approval-pending');
    const refusals = (await trail()).flatMap((x) =>
      x.kind === 'evidence' && x.subject === `approval:${id}` && (x.document as { decision?: string }).decision === 'refused'
        ? [x.summary]
        : [],
    );
    expect(refusals[0]).toMatch(/carol was refused approving award_contract for acme\/spot-bidding .*base\.approver-tenant-scope/);
  });

  attack(SCOPE, "an award above the approver's spend limit is refused at approve (within it, the same approver may)", async () => {
    const above = { negotiationId: 'acme-n1', supplierId: 'acme-scope-2', amountCents: 100001 };
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', above);
    const r = charter('approvals', 'approve', id, '--key', keyFile('dave'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /approver 'dave' may not approve award_contract for tenant acme: deny by procurement\.approval-within-spend-limit/,
    );
    expect(h.approvals.get(id).approvals).toEqual([]);
    const within = await pendingRequest('svc-spot-bidding', 'award_contract', { ...above, amountCents: 100000 });
    expect(charter('approvals', 'approve', within, '--key', keyFile('dave')).code).toBe(0);
  });

  attack(SCOPE, 'tokens signed outside the CLI by out-of-scope approvers are refused by the gateway over HTTP', async () => {
    const args = { negotiationId: 'acme-n1', supplierId: 'acme-scope-3', amountCents: 200000 };
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', args);
    // carol serves globex only; dave's limit is 1,000.00: neither token counts, and the record says why.
    const r = await callWith('award_contract', args, [await tokenOf('carol', id), await tokenOf('dave', id)]);
    expect(meta(r).outcome).toBe('approval-pending');
    const reasons = await reasonsOf(r);
    expect(reasons).toMatch(/approver 'carol' may not approve award_contract for tenant acme: deny by base\.approver-tenant-scope/);
    expect(reasons).toMatch(
      /approver 'dave' may not approve award_contract for tenant acme: deny by procurement\.approval-within-spend-limit/,
    );
    expect(forwarded('acme-scope-3')).toBe(false);
    // An in-scope approver's token, the same way, counts.
    expect(meta(await callWith('award_contract', args, [await tokenOf('alice', id)])).outcome).toBe('approved');
  });

  attack(SCOPE, 'a critical call needs two distinct in-scope approvers', async () => {
    const args = { supplierId: 'acme-s1', reason: 'scope: dual approval' };
    const id = await pendingRequest('svc-spot-bidding', 'terminate_supplier', args);
    expect(charter('approvals', 'approve', id, '--key', keyFile('alice')).code).toBe(0);
    expect(charter('approvals', 'approve', id, '--key', keyFile('carol')).code).toBe(1);
    // carol's token, signed without the CLI, does not make a second approver beside alice's.
    const r = await callWith('terminate_supplier', args, [h.approvals.get(id).approvals[0]!.token, await tokenOf('carol', id)]);
    expect(meta(r).outcome).toBe('approval-pending');
    expect(await reasonsOf(r)).toMatch(/needs 2 distinct approver\(s\), the call has 1/);
    expect(upstream.received.some((c) => c.tool === 'terminate_supplier' && c.args.reason === args.reason)).toBe(false);
    expect(charter('approvals', 'approve', id, '--key', keyFile('bob')).code).toBe(0);
    expect(meta(await callWith('terminate_supplier', args, [])).outcome).toBe('approved');
  });

  attack(SCOPE, 'an undeclared approver, or an approval decision that errors, approves nothing (fail closed)', async () => {
    const plain = { negotiationId: 'acme-n1', supplierId: 'acme-scope-5' };
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', plain);
    // erin's key is trusted for approval, but approvers.yaml does not declare her: no entity, no approval.
    const undeclared = charter('approvals', 'approve', id, '--key', keyFile('erin'));
    expect(undeclared.code).toBe(1);
    expect(undeclared.stderr).toMatch(/approver 'erin' is not declared/);
    const r = await callWith('award_contract', plain, [await tokenOf('erin', id)]);
    expect(meta(r).outcome).toBe('approval-pending');
    expect(await reasonsOf(r)).toMatch(/approver 'erin' may not approve award_contract for tenant acme: approver 'erin' is not declared/);
    // The fixture's spend rule adds two caller figures: 2^62 + 2^62 overflows a Long and Cedar errors.
    const huge = { ...plain, supplierId: 'acme-scope-6', amountCents: 2 ** 62, feeCents: 2 ** 62 };
    const id2 = await pendingRequest('svc-spot-bidding', 'award_contract', huge);
    const errored = charter('approvals', 'approve', id2, '--key', keyFile('alice'));
    expect(errored.code).toBe(1);
    expect(errored.stderr).toMatch(/a policy errored during evaluation \(fail closed\)/);
    const r2 = await callWith('award_contract', huge, [await tokenOf('alice', id2)]);
    expect(meta(r2).outcome).toBe('approval-pending');
    expect(await reasonsOf(r2)).toMatch(
      /approver 'alice' may not approve award_contract for tenant acme: a policy errored during evaluation \(fail closed\)/,
    );
    expect(forwarded('acme-scope-5') || forwarded('acme-scope-6')).toBe(false);
  });
});

describe('evidence: only signed acts enter the trail', () => {
  const outbox = () => join(h.home, 'approvals', 'evidence');
  /** A forged approval record: "bob approved" a request bob never saw. */
  const forged = () => {
    const document = { approvalId: '00000000-0000-7000-8000-000000000001', decision: 'approve', approver: 'bob', statusAfter: 'approved' };
    return evidenceRecord({
      evidenceType: 'approval',
      digest: digestJson(document),
      subject: `approval:${document.approvalId}`,
      summary: 'bob approved everything',
      document,
      runId: null,
      tenantId: 'acme',
    });
  };

  /** Drops a file, makes one gated call over HTTP, and returns what the trail says about the forged record. */
  async function dropAndCall(name: string, content: string, recordId: string) {
    writeFileSync(join(outbox(), name), content);
    const client = await agentAs('svc-spot-bidding');
    await call(client, 'award_contract', { negotiationId: 'acme-n1', supplierId: `acme-x-${recordId.slice(-6)}` });
    await client.close();
    const all = await trail();
    return {
      appended: all.some((r) => r.id === recordId),
      refusal: all.find((r) => r.kind === 'evidence' && r.evidenceType === 'refused-evidence' && r.subject === `evidence-outbox:${name}`),
      setAside: existsSync(join(outbox(), 'refused', name)) && !existsSync(join(outbox(), name)),
    };
  }

  attack('evidence', 'an unsigned JSON record dropped into approvals/evidence is refused, recorded as refused, and set aside', async () => {
    const record = forged();
    const seen = await dropAndCall(`${record.id}.json`, JSON.stringify(record), record.id);
    expect(seen.appended).toBe(false);
    expect(seen.refusal).toBeDefined();
    expect(seen.setAside).toBe(true);
  });

  attack('evidence', "a record signed by alice's approval key that says bob approved is refused", async () => {
    const record = forged();
    const envelope = await signEnvelope(EVIDENCE_PAYLOAD_TYPE, Buffer.from(canonicalJson(record)), [new LocalKeySigner(h.key('alice'))]);
    const seen = await dropAndCall(`${record.id}.json`, JSON.stringify(envelope), record.id);
    expect(seen.appended).toBe(false);
    expect(JSON.stringify(seen.refusal)).toMatch(/signed by 'alice', but the document names 'bob'/);
  });

  attack('evidence', 'a record signed by an untrusted key, or altered after signing, is refused', async () => {
    const record = { ...forged(), document: { ...(forged().document as Record<string, unknown>), approver: 'mallory' } };
    record.digest = digestJson(record.document);
    const envelope = await signEnvelope(EVIDENCE_PAYLOAD_TYPE, Buffer.from(canonicalJson(record)), [new LocalKeySigner(h.key('mallory'))]);
    expect((await dropAndCall(`${record.id}.json`, JSON.stringify(envelope), record.id)).appended).toBe(false);

    const bobs = { ...forged() };
    const signed = await signEnvelope(EVIDENCE_PAYLOAD_TYPE, Buffer.from(canonicalJson(bobs)), [new LocalKeySigner(h.key('bob'))]);
    const altered = { ...bobs, summary: 'bob approved everything, twice' };
    const tampered = { ...signed, payload: Buffer.from(canonicalJson(altered)).toString('base64') };
    const seen = await dropAndCall(`${bobs.id}.json`, JSON.stringify(tampered), bobs.id);
    expect(seen.appended).toBe(false);
    expect(JSON.stringify(seen.refusal)).toMatch(/does not verify/);
  });

  test('signed approvals from the CLI still reach the trail', async () => {
    const id = await pendingRequest('svc-spot-bidding', 'award_contract', { negotiationId: 'acme-n1', supplierId: 'acme-s5' });
    expect(charter('approvals', 'approve', id, '--key', keyFile('bob')).code).toBe(0);
    await path.recordApprovalEvidence();
    const approval = (await trail()).find((r) => r.kind === 'evidence' && r.subject === `approval:${id}`);
    expect(approval).toMatchObject({ evidenceType: 'approval', document: { approver: 'bob', decision: 'approve' } });
    expect(readdirSync(outbox()).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});

describe('kill switches: operator input that acts, or says why not', () => {
  const list = () =>
    (JSON.parse(charter('killswitch', 'list', '--json').stdout) as { engaged: Array<{ kind: string; id: string; by: string }> }).engaged;

  attack('kill switches', '`engage --tenant ACME` engages acme (ids normalised), signed by the operator who engaged it', () => {
    const r = charter('killswitch', 'engage', '--tenant', 'ACME', '--key', keyFile('oncall'), '--reason', 'incident 7', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(list()).toEqual([expect.objectContaining({ kind: 'tenant', id: 'acme', by: 'oncall' })]);
  });

  attack('kill switches', 'an unknown tenant or agent is exit 2 listing the known ones, and changes nothing', () => {
    const before = readFileSync(join(h.home, 'kill-switches.yaml'), 'utf8');
    const tenant = charter('killswitch', 'engage', '--tenant', 'acme-corp', '--key', keyFile('oncall'), '--reason', 'x');
    expect(tenant.code).toBe(2);
    expect(tenant.stderr).toMatch(/unknown tenant 'acme-corp': known tenants are acme, globex/);
    const agent = charter('killswitch', 'engage', '--agent', 'spot-biding', '--key', keyFile('oncall'), '--reason', 'x');
    expect(agent.code).toBe(2);
    expect(agent.stderr).toMatch(/unknown agent 'spot-biding': known agents are .*spot-bidding/);
    expect(readFileSync(join(h.home, 'kill-switches.yaml'), 'utf8')).toBe(before);
  });

  attack('kill switches', 'releasing a switch needs an approval key: an operator key or an unsigned release is refused', () => {
    const asOperator = charter('killswitch', 'release', '--tenant', 'acme', '--key', keyFile('oncall'), '--reason', 'done');
    expect(asOperator.code).toBe(1);
    expect(asOperator.stderr).toMatch(/not for approval/);
    expect(charter('killswitch', 'release', '--tenant', 'acme', '--as', 'alice', '--reason', 'done').code).toBe(2);
    expect(list()).toHaveLength(1);
    const ok = charter('killswitch', 'release', '--tenant', 'Acme', '--key', keyFile('alice'), '--reason', 'credentials rotated');
    expect(ok.code, ok.stderr).toBe(0);
    expect(list()).toEqual([]);
  });

  attack('kill switches', 'concurrent engages all land (the file is changed under a lock)', async () => {
    const agents = [
      'award-communications',
      'bid-evaluation',
      'bottleneck-negotiation',
      'compliance-review',
      'kraljic-classifier',
      'leverage-auction',
      'spot-bidding',
      'strategic-partnership',
    ];
    const codes = await Promise.all(
      agents.map(
        (a) =>
          new Promise<number | null>((done) =>
            spawn(process.execPath, [CLI, 'killswitch', 'engage', '--agent', a, '--key', keyFile('oncall'), '--reason', 'drill'], {
              env: { ...process.env, CHARTER_HOME: h.home },
              stdio: 'ignore',
            }).once('close', done),
          ),
      ),
    );
    expect(codes).toEqual(agents.map(() => 0));
    expect(
      list()
        .map((e) => e.id)
        .sort(),
    ).toEqual(agents);
  });

  test('each signed change reaches the trail as kill-switch evidence at the next decision', async () => {
    await path.recordApprovalEvidence();
    const changes = (await trail()).filter((r) => r.kind === 'evidence' && r.evidenceType === 'kill-switch');
    expect(changes.map((r) => (r.kind === 'evidence' ? r.subject : '')).slice(0, 2)).toEqual([
      'kill-switch:tenant:acme',
      'kill-switch:tenant:acme',
    ]);
    // One record a change: ten changes (acme engaged and released, eight agents engaged).
    expect(new Set(changes.map((r) => r.id)).size, changes.map((r) => (r.kind === 'evidence' ? r.subject : '')).join(', ')).toBe(10);
    expect(new Set(changes.map((r) => (r.kind === 'evidence' ? r.subject : ''))).size).toBe(9);
  });
});

describe('smaller seams: input that would be signed or written before it is checked', () => {
  attack('smaller seams', '`approvals request` for an unknown agent or a tool the agent does not hold is refused', () => {
    const request = (agent: string, tool: string) =>
      charter('approvals', 'request', '--tenant', 'acme', '--agent', agent, '--tool', tool, '--args', '{}', '--packs', FIXTURE_PACKS);
    const agent = request('spot-biding', 'award_contract');
    expect(agent.code).toBe(2);
    expect(agent.stderr).toMatch(/unknown agent 'spot-biding': known agents are spot-bidding/);
    const tool = request('spot-bidding', 'award_contracts');
    expect(tool.code).toBe(2);
    expect(tool.stderr).toMatch(/agent 'spot-bidding' has no tool 'award_contracts': its tools are/);
  });

  attack('smaller seams', '`keys generate` with a malformed trusted-keys file writes no key pair', () => {
    const dir = mkdtempSync(join(tmpdir(), 'charter-keys-'));
    try {
      writeFileSync(join(dir, 'trusted-keys.json'), '{"keys": [ {"name": "x"} ]}');
      const r = charter('keys', 'generate', '--name', 'late', '--purpose', 'approval', '--dir', dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/trusted-keys.json/);
      expect(readdirSync(dir)).toEqual(['trusted-keys.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  attack('smaller seams', '`release approve --waive` of a check or metric that does not exist is refused, naming the known ones', () => {
    const r = charter(
      'release',
      'approve',
      '--env',
      'prod',
      '--manifest',
      h.manifestFile,
      '--key',
      keyFile('alice'),
      '--waive',
      'evals:award-comunications/judge_score',
      '--note',
      'typo',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /unknown waiver 'evals:award-comunications\/judge_score'.*known checks are dependencies, replay, canary, evals:/,
    );
    const dir = join(h.home, 'releases');
    expect(existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.dsse.json')) : []).toEqual([]);
  });
});
