import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queryAudit } from '../audit/index.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { IdentityVerifier, serveGatewayHttp, upstreamAction, UpstreamPool, type DecisionMeta, type LoopbackMcp } from '../gateway/index.js';
import { openGatewayHarness, type GatewayHarness } from './gateway-harness.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

const TOOLS = ['list_suppliers', 'submit_bid', 'award_contract', 'terminate_supplier', 'update_tenant_config'];

let h: GatewayHarness;
let idp: JwksServer;
let upstream: ToolServer;
let pool: UpstreamPool;
let gateway: LoopbackMcp;

beforeAll(async () => {
  h = await openGatewayHarness();
  idp = await startJwksServer();
  // The supplier system is slow for globex only (see the breaker test).
  upstream = await startToolServer(TOOLS, (args) => (args.tenant_id === 'globex' ? 3000 : 0));
  pool = new UpstreamPool(Object.fromEntries(TOOLS.map((t) => [upstreamAction('Procurement', t), upstream.url])), {
    maxConcurrent: 2,
    timeoutMs: 1500,
    failureThreshold: 3,
    openMs: 60_000,
  });
  gateway = await serveGatewayHttp(
    h.path,
    pool,
    IdentityVerifier.fromConfig({ jwks: idp.url, issuer: idp.issuer, audience: idp.audience }),
  );
});

afterAll(async () => {
  await gateway?.close();
  await pool?.close();
  await upstream?.close();
  await idp?.close();
  await h?.close();
});

/** An agent: an MCP SDK client over Streamable HTTP carrying the platform-issued bearer token. */
async function agent(token: string): Promise<Client> {
  const client = new Client({ name: 'spot-bidding-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const meta = (r: CallToolResult) => r._meta?.['charter/decision'] as DecisionMeta;
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe('an agent calling tools through the gateway over Streamable HTTP', () => {
  test('sees only its permitted tools, and allowed, guarded, approval-pending and denied calls, each recorded', async () => {
    const client = await agent(await idp.issue({ sub: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' }));
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name).sort()).toEqual(['award_contract', 'list_suppliers', 'submit_bid', 'terminate_supplier']);
    expect(listed.tools.find((t) => t.name === 'submit_bid')!.inputSchema.required).toContain('amountCents');

    const sizeBefore = h.audit.size;
    const reached = upstream.received.length;

    const read = (await client.callTool({ name: 'list_suppliers', arguments: { category: 'steel' } })) as CallToolResult;
    expect(meta(read).outcome).toBe('allowed');
    expect(JSON.parse(text(read)).args).toEqual({ category: 'steel', tenant_id: 'acme' });

    const guarded = (await client.callTool({
      name: 'submit_bid',
      arguments: { negotiationId: 'acme-n1', supplierId: 'acme-s1', amountCents: 120_000, shippingCents: 500 },
    })) as CallToolResult;
    expect(meta(guarded).outcome).toBe('guarded');
    expect(guarded.isError).toBeFalsy();

    const pending = (await client.callTool({
      name: 'award_contract',
      arguments: { negotiationId: 'acme-n1', supplierId: 'acme-s1' },
    })) as CallToolResult;
    expect(pending.isError).toBe(true);
    expect(meta(pending).outcome).toBe('approval-pending');
    const requestId = meta(pending).approvalRequest!.id;
    expect(text(pending)).toContain(requestId);

    const denied = (await client.callTool({
      name: 'update_tenant_config',
      arguments: { key: 'maxBidCents', value: '1' },
    })) as CallToolResult;
    expect(denied.isError).toBe(true);
    expect(meta(denied).outcome).toBe('denied');

    const crossTenant = (await client.callTool({
      name: 'submit_bid',
      arguments: { tenant_id: 'globex', negotiationId: 'globex-n1', supplierId: 'globex-s1', amountCents: 1, shippingCents: 1 },
    })) as CallToolResult;
    expect(meta(crossTenant).outcome).toBe('denied');

    // An approver signs; the agent retries the same call and it goes through.
    await h.approvals.approve(requestId, h.approver('alice'));
    const approved = (await client.callTool({
      name: 'award_contract',
      arguments: { negotiationId: 'acme-n1', supplierId: 'acme-s1' },
    })) as CallToolResult;
    expect(meta(approved).outcome).toBe('approved');

    // Six calls, six decision records plus the evidence of alice's approval; only the four
    // that were not blocked reached the upstream.
    expect(h.audit.size - sizeBefore).toBe(7);
    expect(new Set([read, guarded, pending, denied, crossTenant, approved].map((r) => meta(r).recordId)).size).toBe(6);
    expect(upstream.received.slice(reached).map((c) => c.tool)).toEqual(['list_suppliers', 'submit_bid', 'award_contract']);
    await client.close();
  });

  test('approval tokens can also travel in the call _meta', async () => {
    const client = await agent(await idp.issue({ sub: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' }));
    const args = { negotiationId: 'acme-n1', supplierId: 'acme-s7' };
    const first = (await client.callTool({ name: 'award_contract', arguments: args })) as CallToolResult;
    const req = await h.approvals.approve(meta(first).approvalRequest!.id, h.approver('bob'));
    const tokens = req.approvals.map((a) => a.token);
    const ok = (await client.callTool({
      name: 'award_contract',
      arguments: args,
      _meta: { 'charter/approvalTokens': tokens, 'charter/traceId': 'trace-42' },
    })) as CallToolResult;
    expect(meta(ok).outcome).toBe('approved');
    await client.close();
  });

  test('a call its caller marks stopped (a model proposal past a loop bound) is recorded as a deny with the reason and never forwarded', async () => {
    const client = await agent(await idp.issue({ sub: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' }));
    const reached = upstream.received.length;
    const size = h.audit.size;
    // A read the packs allow: the mark alone turns it into a deny, and nothing reaches the upstream.
    const stopped = (await client.callTool({
      name: 'list_suppliers',
      arguments: { category: 'steel' },
      _meta: { 'charter/stopped': 'model turn bound reached (8 turns)' },
    })) as CallToolResult;
    expect(stopped.isError).toBe(true);
    expect(meta(stopped)).toMatchObject({
      outcome: 'denied',
      reasons: ["stopped by the agent's model loop: model turn bound reached (8 turns)"],
    });
    expect(upstream.received.length).toBe(reached);
    expect(h.audit.size - size).toBe(1);
    await client.close();
  });

  test('a caller without a valid platform token reaches no tool decision; the refusal is recorded without a tenant', async () => {
    const size = h.audit.size;
    await expect(agent(await idp.forge({ sub: 'x', tenantId: 'acme', agentId: 'spot-bidding' }))).rejects.toThrow(/401|token rejected/);
    await expect(
      agent(await idp.issue({ sub: 'x', tenantId: 'acme', agentId: 'spot-bidding' }, { audience: 'someone-else' })),
    ).rejects.toThrow(/401|token rejected/);
    await expect(agent(await idp.issue({ sub: 'x', tenantId: 'acme', agentId: 'spot-bidding' }, { expiresIn: '-1m' }))).rejects.toThrow(
      /401|token rejected/,
    );
    await expect(agent(await idp.issue({ sub: 'x', tenantId: 'Acme Corp', agentId: 'spot-bidding' }))).rejects.toThrow(/401|tenantId/);
    expect(h.audit.size).toBe(size + 4);
    await h.audit.flush();
    const refusals = await queryAudit({ dir: join(h.home, 'audit'), kind: 'decision', tenant: '(unauthenticated)' });
    expect(refusals).toHaveLength(4);
    for (const r of refusals)
      expect(r).toMatchObject({
        decision: 'deny',
        agentId: '(unauthenticated)',
        principal: '(unauthenticated)',
        tier: null,
        manifestDigest: null,
      });
    // The forged token claimed acme: the claim is not trusted, acme's trail holds none of these.
    expect(refusals.map((r) => (r.kind === 'decision' ? r.reasons[0] : '')).join('\n')).toMatch(
      /ERR_JWS_SIGNATURE_VERIFICATION_FAILED[\s\S]*ERR_JWT_CLAIM_VALIDATION_FAILED[\s\S]*ERR_JWT_EXPIRED[\s\S]*tenantId/,
    );
    const acme = await queryAudit({ dir: join(h.home, 'audit'), kind: 'decision', tenant: 'acme' });
    expect(acme.filter((r) => r.kind === 'decision' && r.principal === 'x')).toEqual([]);
  });

  test('a flood of unauthenticated requests is counted, not recorded one by one', async () => {
    const flooded = await serveGatewayHttp(
      h.reopen(),
      pool,
      IdentityVerifier.fromConfig({ jwks: idp.url, issuer: idp.issuer, audience: idp.audience }),
    );
    const size = h.audit.size;
    const statuses = await Promise.all(
      Array.from(
        { length: 100 },
        async () =>
          (
            await fetch(flooded.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
              body: '{}',
            })
          ).status,
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    await flooded.close(); // writes the count not yet recorded
    const written = h.audit.size - size;
    expect(written).toBeGreaterThanOrEqual(21);
    expect(written).toBeLessThan(30);
    await h.audit.flush();
    const records = (await queryAudit({ dir: join(h.home, 'audit'), kind: 'decision', tenant: '(unauthenticated)' })).slice(-written);
    // Every refused request is accounted for: one by one within the burst, the rest as counts.
    let accounted = 0;
    for (const r of records) {
      if (r.kind !== 'decision') continue;
      if (r.reasons[0]?.startsWith('unauthenticated request refused')) accounted++;
      const more = r.reasons.map((x) => /^(\d+) more unauthenticated request\(s\) refused/.exec(x)?.[1]).find(Boolean);
      accounted += Number(more ?? 0);
    }
    expect(accounted).toBe(100);
  });

  test('a slow upstream for tenant A does not slow tenant B, and its breaker opens for A only', async () => {
    const globex = await agent(await idp.issue({ sub: 'svc', tenantId: 'globex', agentId: 'spot-bidding' }));
    const acme = await agent(await idp.issue({ sub: 'svc', tenantId: 'acme', agentId: 'spot-bidding' }));
    let globexSettled = 0;
    const slow = Array.from({ length: 4 }, () =>
      (globex.callTool({ name: 'list_suppliers', arguments: {} }) as Promise<CallToolResult>).finally(() => globexSettled++),
    );
    // Two globex calls hold its bulkhead and two are refused at once; acme is answered while
    // the held ones are still waiting on the slow supplier.
    const fast = (await acme.callTool({ name: 'list_suppliers', arguments: {} })) as CallToolResult;
    expect(fast.isError).toBeFalsy();
    expect(globexSettled).toBeLessThanOrEqual(2);
    const slowResults = await Promise.all(slow);
    expect(slowResults.every((r) => r.isError)).toBe(true);
    expect(slowResults.map(text).join('\n')).toMatch(/did not answer within 1500 ms/);
    expect(slowResults.map(text).join('\n')).toMatch(/2 calls in flight \(limit 2\)/);
    // After three consecutive failures globex's breaker is open; acme's stays closed.
    for (let i = 0; i < 3; i++) await globex.callTool({ name: 'list_suppliers', arguments: {} });
    expect(pool.guard.state(`globex|${upstream.url}`)).toBe('open');
    expect(pool.guard.state(`acme|${upstream.url}`)).toBe('closed');
    const refused = (await globex.callTool({ name: 'list_suppliers', arguments: {} })) as CallToolResult;
    expect(text(refused)).toMatch(/circuit open/);
    expect(((await acme.callTool({ name: 'list_suppliers', arguments: {} })) as CallToolResult).isError).toBeFalsy();
    await globex.close();
    await acme.close();
  });
});
