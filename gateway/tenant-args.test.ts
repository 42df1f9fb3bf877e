import { expect, test } from 'vitest';
import { bindTenant } from './tenant-args.js';

test('tenant_id is injected from the claim when the contract takes one, and left out otherwise', () => {
  expect(bindTenant({ a: 1 }, 'acme', true)).toEqual({ ok: true, args: { a: 1, tenant_id: 'acme' } });
  expect(bindTenant({ a: 1 }, 'acme', false)).toEqual({ ok: true, args: { a: 1 } });
  expect(bindTenant({ tenant_id: 'acme' }, 'acme', true)).toEqual({ ok: true, args: { tenant_id: 'acme' } });
});

test('a tenant_id other than the claim, at any depth, is refused with its path', () => {
  expect(bindTenant({ tenant_id: 'globex' }, 'acme', true)).toEqual({
    ok: false,
    reason: "tenant mismatch: args.tenant_id is 'globex', the caller's tenant is 'acme'",
  });
  const nested = bindTenant({ lines: [{ x: 1 }, { meta: { tenant_id: 'globex' } }] }, 'acme', true);
  expect(nested.ok).toBe(false);
  expect(!nested.ok && nested.reason).toMatch(/args.lines\[1\].meta.tenant_id/);
  expect(bindTenant({ tenant_id: null }, 'acme', true).ok).toBe(false);
});
