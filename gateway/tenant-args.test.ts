import { expect, test } from 'vitest';
import { bindTenant, checkNamedEntities, entityArgs } from './tenant-args.js';

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

test('every entity an x-entity argument names must resolve within the caller tenant', () => {
  const refs = entityArgs({
    properties: { ids: { type: 'array', 'x-entity': 'P::S' }, one: { type: 'string', 'x-entity': 'P::N' }, n: {} },
  });
  expect(refs).toEqual([
    { arg: 'ids', type: 'P::S' },
    { arg: 'one', type: 'P::N' },
  ]);
  const tenantOf: Record<string, string> = { a1: 'acme', a2: 'acme', g1: 'globex' };
  const resolver = {
    resolve: (uid: { type: string; id: string }) =>
      tenantOf[uid.id]
        ? [
            { uid, attrs: {}, parents: [{ type: 'Charter::Tenant', id: tenantOf[uid.id]! }] },
            { uid: { type: 'Charter::Tenant', id: tenantOf[uid.id]! }, attrs: {}, parents: [] },
          ]
        : undefined,
  };
  expect(checkNamedEntities({ ids: ['a1', 'a2'], one: 'a1' }, refs, 'acme', resolver)).toEqual({ ok: true });
  expect(checkNamedEntities({ ids: ['a1', 'g1'] }, refs, 'acme', resolver)).toEqual({
    ok: false,
    reason: `tenant mismatch: args.ids[1] names P::S::"g1" of tenant 'globex', the caller's tenant is 'acme'`,
  });
  expect(checkNamedEntities({ ids: ['a1'], one: 'zz' }, refs, 'acme', resolver)).toEqual({
    ok: false,
    reason: `unknown entity: args.one names P::N::"zz", which does not resolve`,
  });
});
