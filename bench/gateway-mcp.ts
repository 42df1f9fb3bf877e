/**
 * Benchmark: one tool call through the gateway over MCP Streamable HTTP on loopback, as an
 * agent makes it (SDK client -> gateway: JWT verification, decision, audit append -> upstream
 * MCP tool server -> back), beside the same client straight to the upstream (the limit: the
 * upstream's own time over the same transport) and the same call in-process (InMemoryTransport).
 * In rounds: p50 per call of each, the gateway's hop above the upstream (aim <= 1 ms), and an
 * open-loop run over HTTP with latency from when each call was due.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectInProcess } from '../gateway/index.js';
import { openGatewayHarness, serveOverHttp } from '../tests/gateway-harness.js';
import { emit, figure, inRounds, openLoop, percentiles, round3, summarize } from './harness.js';

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<void> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (r.isError) throw new Error(`benchmark call failed: ${JSON.stringify(r.content)}`);
}

/** p50 of `n` sequential calls (each due when the previous one ends, so nothing is omitted). */
async function p50(client: Client, name: string, args: Record<string, unknown>, n: number): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(client, name, args);
    lat.push(performance.now() - t0);
  }
  return percentiles(lat).p50;
}

const h = await openGatewayHarness();
const { idp, upstream, pool, gateway, close: closeHttp } = await serveOverHttp(h, 'Procurement', ['list_suppliers', 'submit_bid']);
try {
  const token = await idp.issue({ sub: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' });
  const http = new Client({ name: 'bench-agent', version: '1.0.0' });
  await http.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(new StreamableHTTPClientTransport(new URL(upstream.url)));
  const inProcess = await connectInProcess(h.path, pool, { principal: 'svc-spot-bidding', tenantId: 'acme', agentId: 'spot-bidding' });
  const read = { category: 'steel' };
  const bid = { negotiationId: 'acme-n1', supplierId: 'acme-s1', amountCents: 120_000, shippingCents: 500 };
  for (let i = 0; i < 200; i++) {
    await call(http, 'list_suppliers', read);
    await call(direct, 'list_suppliers', { ...read, tenant_id: 'acme' });
    await call(inProcess, 'list_suppliers', read);
  }
  // Gateway and upstream alternate within a round, so both see the same machine.
  const hops: number[] = [];
  const upstreamRounds: number[] = [];
  const viaGateway = await inRounds(async () => {
    const g = await p50(http, 'list_suppliers', read, 1000);
    const u = await p50(direct, 'list_suppliers', { ...read, tenant_id: 'acme' }, 1000);
    upstreamRounds.push(u);
    hops.push(g - u);
    return g;
  });
  const upstreamDirect = summarize(upstreamRounds);
  const guarded = await inRounds(() => p50(http, 'submit_bid', bid, 300));
  const inProcessRead = await inRounds(() => p50(inProcess, 'list_suppliers', read, 1000));
  // Refusals (a full bulkhead when the machine falls behind) are counted, not hidden.
  let refused = 0;
  const open = await openLoop(100, 1000, () => call(http, 'list_suppliers', read).catch(() => void refused++));
  emit('gateway-mcp', {
    note: 'per call, agent to upstream and back; upstream is a local MCP tool server (Streamable HTTP, stateless)',
    readCallP50Ms: figure(viaGateway, {
      unit: 'ms',
      lowerIsBetter: true,
      limit: { what: 'the same client straight to the upstream tool server (no gateway)', sampled: upstreamDirect },
    }),
    gatewayHopAboveUpstreamP50Ms: figure(summarize(hops), { unit: 'ms', lowerIsBetter: true, aim: 1 }),
    guardedCallP50Ms: figure(guarded, { unit: 'ms', lowerIsBetter: true }),
    inProcessReadCallP50Ms: figure(inProcessRead, {
      unit: 'ms',
      lowerIsBetter: true,
      limit: { what: 'the upstream over HTTP straight (the in-process gateway still calls it over HTTP)', sampled: upstreamDirect },
    }),
    openLoopReadOverHttp: { ...open, refused, latencyFrom: 'due time' },
    auditRecords: h.audit.size,
    hopRoundsMs: hops.map(round3),
  });
  await http.close();
  await inProcess.close();
  await direct.close();
} finally {
  await closeHttp();
  await h.close();
}
