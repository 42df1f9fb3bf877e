/**
 * Benchmark: one tool call through the gateway over MCP Streamable HTTP on loopback, as an
 * agent makes it (SDK client -> gateway: JWT verification, decision, audit append -> upstream
 * MCP tool server -> back). Also the same call in-process (InMemoryTransport) to show what the
 * HTTP hop costs. Prints one JSON object with p50/p99 per call.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectInProcess } from '../gateway/index.js';
import { openGatewayHarness, serveOverHttp } from '../tests/gateway-harness.js';

const round = (n: number) => Math.round(n * 1000) / 1000;

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(s[s.length - 1]!), n: s.length };
}

async function measure(client: Client, name: string, args: Record<string, unknown>, n: number) {
  for (let i = 0; i < 100; i++) await client.callTool({ name, arguments: args });
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    lat.push(performance.now() - t0);
    if (r.isError) throw new Error(`benchmark call failed: ${JSON.stringify(r.content)}`);
  }
  return percentiles(lat);
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
  const bid = { negotiationId: 'acme-n1', supplierId: 'acme-s1', amountCents: 120_000, shippingCents: 500 };
  const result = {
    benchmark: 'gateway-mcp',
    unit: 'ms',
    loadAverage1m: round(loadavg()[0]!),
    note: 'per call, agent to upstream and back; upstream is a local MCP tool server (Streamable HTTP)',
    streamableHttp: {
      readCall: await measure(http, 'list_suppliers', { category: 'steel' }, 1000),
      guardedCall: await measure(http, 'submit_bid', bid, 500),
    },
    upstreamDirect: {
      note: 'baseline: the same client straight to the upstream tool server, no gateway',
      readCall: await measure(direct, 'list_suppliers', { category: 'steel', tenant_id: 'acme' }, 1000),
    },
    inProcess: {
      readCall: await measure(inProcess, 'list_suppliers', { category: 'steel' }, 1000),
      guardedCall: await measure(inProcess, 'submit_bid', bid, 500),
    },
  };
  await http.close();
  await inProcess.close();
  await direct.close();
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await closeHttp();
  await h.close();
}
