import { expect, test } from 'vitest';
import { NonceStore } from './envelopes.js';

test('the nonce store refuses a replay while the envelope lives and forgets nonces once they expire', () => {
  const store = new NonceStore();
  expect(store.remember('a', 1_000, 0)).toBe(true);
  expect(store.remember('a', 1_000, 500)).toBe(false);
  for (let i = 0; i < 100; i++) store.remember(`n${i}`, 2_000, 600);
  expect(store.size).toBe(101);
  // At t=2000 every earlier envelope has expired: the store shrinks to the newcomer.
  expect(store.remember('z', 5_000, 2_000)).toBe(true);
  expect(store.size).toBe(1);
});
