import { afterEach, describe, expect, test, vi } from 'vitest';
import { startToolServer } from '../tests/servers/tool-server.js';
import { DEFAULT_UPSTREAM_GUARD, UpstreamPool } from './upstreams.js';

/** Lets real I/O (sockets) run while timers are fake. */
async function untilTrue(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error('condition not reached');
}

describe('UpstreamPool deadlines', () => {
  afterEach(() => vi.useRealTimers());

  test("a call may take as long as the guard allows, past the MCP SDK's 60 s default, and fails with the guard's reason after it", async () => {
    const server = await startToolServer(['quote'], (args) => Number(args['delayMs']));
    const pool = new UpstreamPool({ quote: server.url }, { ...DEFAULT_UPSTREAM_GUARD, timeoutMs: 120_000 });
    try {
      expect(pool.callerTimeoutMs).toBeGreaterThan(120_000);
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const slow = pool.call('acme', 'quote', { delayMs: 90_000 });
      await untilTrue(() => server.received.length === 1);
      await vi.advanceTimersByTimeAsync(61_000);
      await vi.advanceTimersByTimeAsync(30_000);
      await expect(slow).resolves.toMatchObject({ content: [{ type: 'text', text: expect.stringContaining('"ok":true') }] });

      const slower = pool.call('acme', 'quote', { delayMs: 500_000 });
      const outcome = slower.then(() => 'answered', (err: unknown) => String(err));
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
