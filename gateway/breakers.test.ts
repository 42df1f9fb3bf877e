import { describe, expect, test } from 'vitest';
import { RateLimiter, UpstreamGuard, UpstreamRefused } from './breakers.js';

describe('RateLimiter', () => {
  test('each tenant has its own bucket, refilled at the configured rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('acme'))).toEqual([true, true, true, false]);
    expect(limiter.take('globex')).toBe(true);
    now = 500;
    expect(limiter.take('acme')).toBe(true);
    expect(limiter.take('acme')).toBe(false);
  });
});

describe('UpstreamGuard', () => {
  const opts = { maxConcurrent: 1, timeoutMs: 50, failureThreshold: 2, openMs: 1000 };
  const fail = () => Promise.reject(new Error('boom'));

  test('opens after consecutive failures, probes once after openMs, and closes on success', async () => {
    let now = 0;
    const guard = new UpstreamGuard(opts, () => now);
    await expect(guard.run('a', fail)).rejects.toThrow('boom');
    expect(guard.state('a')).toBe('closed');
    await expect(guard.run('a', fail)).rejects.toThrow('boom');
    expect(guard.state('a')).toBe('open');
    await expect(guard.run('a', async () => 1)).rejects.toBeInstanceOf(UpstreamRefused);
    expect(guard.state('b')).toBe('closed');
    now = 1000;
    expect(guard.state('a')).toBe('half-open');
    await expect(guard.run('a', async () => 'ok')).resolves.toBe('ok');
    expect(guard.state('a')).toBe('closed');
  });

  test('a failed probe re-opens the breaker at once', async () => {
    let now = 0;
    const guard = new UpstreamGuard(opts, () => now);
    await guard.run('a', fail).catch(() => undefined);
    await guard.run('a', fail).catch(() => undefined);
    now = 1000;
    await expect(guard.run('a', fail)).rejects.toThrow('boom');
    expect(guard.state('a')).toBe('open');
  });

  test('a slow call times out and aborts; the bulkhead refuses calls beyond maxConcurrent for that key only', async () => {
    const guard = new UpstreamGuard(opts);
    let aborted = false;
    const slow = guard.run(
      'a',
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => (aborted = true));
          setTimeout(resolve, 500);
        }),
    );
    await expect(guard.run('a', async () => 1)).rejects.toThrow(/1 calls in flight/);
    await expect(guard.run('b', async () => 2)).resolves.toBe(2);
    await expect(slow).rejects.toThrow(/did not answer within 50 ms/);
    expect(aborted).toBe(true);
  });
});
