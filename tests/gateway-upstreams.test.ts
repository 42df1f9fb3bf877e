import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { transportFetch, UpstreamPool } from '../gateway/index.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

describe('transportFetch: one shared transport signal, many requests', () => {
  let http: Server;
  let url: string;
  beforeAll(async () => {
    // Answers after ?ms= milliseconds, in two chunks (the body stays open in between).
    http = createServer((req, res) => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('last'), ms);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  test('the shared signal carries one listener however many requests it has seen', async () => {
    const f = transportFetch();
    const transport = new AbortController();
    const bodies = await Promise.all(Array.from({ length: 200 }, async () => (await f(url, { signal: transport.signal })).text()));
    expect(new Set(bodies)).toEqual(new Set(['first last']));
    expect(getEventListeners(transport.signal, 'abort')).toHaveLength(1);
  });

  test('aborting the shared signal cancels a response whose body is still arriving', async () => {
    const f = transportFetch();
    const transport = new AbortController();
    const response = await f(`${url}?ms=5000`, { signal: transport.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first ');
    const t0 = Date.now();
    const rest = reader.read();
    transport.abort(new Error('transport closed'));
    await expect(rest).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  test('a signal already aborted fails at once', async () => {
    const transport = new AbortController();
    transport.abort(new Error('closed before the call'));
    await expect(transportFetch()(url, { signal: transport.signal })).rejects.toThrow('closed before the call');
  });
});

describe('UpstreamPool over transportFetch', () => {
  let upstream: ToolServer;
  beforeAll(async () => {
    upstream = await startToolServer(['quote', 'slow'], (args) => (args.slow ? 5_000 : 20));
  });
  afterAll(async () => upstream?.close());

  const guard = { maxConcurrent: 5_000, timeoutMs: 60_000, failureThreshold: 1_000, openMs: 1_000 };

  test('a burst of calls on one pooled connection succeeds without a listener warning', async () => {
    const pool = new UpstreamPool({ quote: upstream.url }, guard);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => pool.call(`tenant${i % 10}`, 'quote', { i })));
      expect(results.filter((r) => r.isError)).toEqual([]);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await pool.close();
    }
  }, 60_000);

  test('closing the pool still aborts a call in flight', async () => {
    const pool = new UpstreamPool({ slow: upstream.url }, guard);
    await pool.call('acme', 'slow', {}); // connects
    const t0 = Date.now();
    const call = pool.call('acme', 'slow', { slow: true });
    await new Promise((r) => setTimeout(r, 200));
    await pool.close();
    await expect(call).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(4_000);
  }, 30_000);
});
