import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { NonceStore } from './envelopes.js';

test('the nonce store refuses a replay while the envelope lives and forgets nonces once they expire', () => {
  const store = NonceStore.open(':memory:');
  expect(store.remember('a', 1_000, 0)).toBe(true);
  expect(store.remember('a', 1_000, 500)).toBe(false);
  for (let i = 0; i < 100; i++) store.remember(`n${i}`, 2_000, 600);
  expect(store.size).toBe(101);
  // At t=2000 every earlier envelope has expired: the store shrinks to the newcomer.
  expect(store.remember('z', 5_000, 2_000)).toBe(true);
  expect(store.size).toBe(1);
  store.close();
});

test('a nonce store in a file remembers across a reopen (a receiver restart)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'charter-nonces-'));
  try {
    const first = NonceStore.open(join(dir, 'nonces.sqlite'));
    expect(first.remember('a', 10_000, 0)).toBe(true);
    first.close();
    const again = NonceStore.open(join(dir, 'nonces.sqlite'));
    expect(again.remember('a', 10_000, 1_000)).toBe(false);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
