import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { startToolServer } from '../tests/servers/tool-server.js';
import { UpstreamGuard } from './breakers.js';
import { DEFAULT_UPSTREAM_GUARD, guardedToolCall, upstreamAction, UpstreamPool } from './upstreams.js';

/** Lets real I/O (sockets) run while timers are fake. */
async function untilTrue(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error('condition not reached');
}

describe('UpstreamPool deadlines', () => {
  afterEach(() => vi.useRealTimers());

  test("a call may take as long as the guard allows, past the MCP SDK's 60 s default, and fails with the guard's reason after it", async () => {
    const server = await startToolServer(['quote'], (args) => Number(args['delayMs']));
    const pool = new UpstreamPool({ [upstreamAction('Test', 'quote')]: server.url }, { ...DEFAULT_UPSTREAM_GUARD, timeoutMs: 120_000 });
    try {
      expect(pool.callerTimeoutMs).toBeGreaterThan(120_000);
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const slow = pool.call('acme', { name: 'quote', action: upstreamAction('Test', 'quote') }, { delayMs: 90_000 });
      await untilTrue(() => server.received.length === 1);
      await vi.advanceTimersByTimeAsync(61_000);
      await vi.advanceTimersByTimeAsync(30_000);
      await expect(slow).resolves.toMatchObject({ content: [{ type: 'text', text: expect.stringContaining('"ok":true') }] });

      const slower = pool.call('acme', { name: 'quote', action: upstreamAction('Test', 'quote') }, { delayMs: 500_000 });
      const outcome = slower.then(
        () => 'answered',
        (err: unknown) => String(err),
      );
      await untilTrue(() => server.received.length === 2);
      await vi.advanceTimersByTimeAsync(120_001);
      expect(await outcome).toContain('did not answer within 120000 ms');
    } finally {
      vi.useRealTimers();
      await pool.close();
      await server.close();
    }
  });
});

describe('guardedToolCall retries', () => {
  /** A client whose first calls fail as undici does when the kept-alive socket closed under the request. */
  const flaky = (failures: number, code = 'UND_ERR_SOCKET') => {
    let calls = 0;
    const client = {
      callTool: async () => {
        calls++;
        if (calls <= failures) throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code }) });
        return { content: [{ type: 'text', text: 'ok' }] };
      },
    } as unknown as Client;
    return { get: async () => client, calls: () => calls };
  };
  const guard = () => new UpstreamGuard({ ...DEFAULT_UPSTREAM_GUARD, failureThreshold: 100 });

  test('an idempotent call whose connection broke is sent once more; a second break is the failure', async () => {
    const once = flaky(1);
    await expect(guardedToolCall(guard(), 'k', once.get, { name: 'get' }, { idempotent: true })).resolves.toMatchObject({
      content: [{ text: 'ok' }],
    });
    expect(once.calls()).toBe(2);
    const twice = flaky(2);
    await expect(guardedToolCall(guard(), 'k', twice.get, { name: 'get' }, { idempotent: true })).rejects.toThrow('fetch failed');
    expect(twice.calls()).toBe(2);
  });

  test('a write is never resent, nor is a failure that is not a broken connection', async () => {
    const write = flaky(1);
    await expect(guardedToolCall(guard(), 'k', write.get, { name: 'issue' })).rejects.toThrow('fetch failed');
    expect(write.calls()).toBe(1);
    const other = flaky(1, 'UND_ERR_HEADERS_TIMEOUT');
    await expect(guardedToolCall(guard(), 'k', other.get, { name: 'get' }, { idempotent: true })).rejects.toThrow('fetch failed');
    expect(other.calls()).toBe(1);
  });
});
