import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { queryAudit } from '../audit/index.js';
import { inProcessGateway, upstreamAction, UpstreamPool, type DecisionMeta, type LocalUpstream } from '../gateway/index.js';
import { openGatewayHarness, type GatewayHarness } from './gateway-harness.js';

// The orchestrator's agents call the gateway in process and the gateway calls the procurement
// tools in process: no MCP transport or HTTP hop, but the same decision and one audit record
// for every call, and nothing reaches a tool without an allow.
const TOOLS = ['list_suppliers', 'submit_bid'];
let h: GatewayHarness;
const received: Array<CallToolRequest['params']> = [];
const tools: LocalUpstream = {
  name: 'in-process-tools',
  callTool: async (params) => {
    received.push(params);
    return { content: [{ type: 'text', text: JSON.stringify({ ok: true, tool: params.name }) }] };
  },
};

beforeAll(async () => {
  h = await openGatewayHarness();
});
afterAll(async () => h?.close());

const decisionOf = (r: CallToolResult) => r._meta?.['charter/decision'] as DecisionMeta;

describe('the gateway in process', () => {
  test('every call is decided and leaves one record; only an allowed call reaches the in-process tool', async () => {
    const pool = new UpstreamPool(Object.fromEntries(TOOLS.map((t) => [upstreamAction('Procurement', t), tools])));
    const acme = inProcessGateway(h.path, pool, { principal: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' });
    const before = h.audit.size;
    const allowed = await acme.callTool({ name: 'list_suppliers', arguments: { category: 'steel', tenant_id: 'acme' } });
    expect(allowed.isError).toBeFalsy();
    expect(decisionOf(allowed)).toMatchObject({ outcome: 'allowed', decision: 'allow' });
    // The tool got the arguments as decided (tenant bound from the identity), not the caller's object.
    expect(received).toEqual([{ name: 'list_suppliers', arguments: { category: 'steel', tenant_id: 'acme' } }]);

    const crossTenant = await acme.callTool({ name: 'list_suppliers', arguments: { category: 'steel', tenant_id: 'globex' } });
    const unknown = await acme.callTool({ name: 'drop_tables', arguments: {} });
    for (const r of [crossTenant, unknown]) {
      expect(r.isError).toBe(true);
      expect(decisionOf(r)).toMatchObject({ outcome: 'denied', decision: 'deny' });
    }
    expect(received).toHaveLength(1);

    await h.audit.flush();
    expect(h.audit.size - before).toBe(3);
    const ids = [allowed, crossTenant, unknown].map((r) => decisionOf(r).recordId);
    const trail = await queryAudit({ dir: join(h.home, 'audit'), kind: 'decision', tenant: 'acme' });
    expect(trail.filter((r) => ids.includes(r.id)).map((r) => (r.kind === 'decision' ? r.decision : ''))).toEqual([
      'allow',
      'deny',
      'deny',
    ]);
  });
});
