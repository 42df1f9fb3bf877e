import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import { compileManifest, FixtureStore, PolicyEngine, Workspace, type ToolCall } from './index.js';

const ws = new Workspace(join(packageRoot, 'policy-packs', 'fixtures', 'good'));
const buyerSet = ws.agentSet('buyer');
const compiled = compileManifest(ws, 'buyer');
const engine = PolicyEngine.fromManifest(compiled.manifest, compiled.digest);
const fixtures: FixtureStore = buyerSet.fixtures;

const call = (over: Partial<ToolCall>): ToolCall => ({
  agent: 'buyer',
  tenant: 'acme',
  tool: 'buy_item',
  args: { itemId: 'acme-widget', quantity: 2 },
  approvers: ['alice'],
  limits: { maxOrderCents: 5000 },
  ...over,
});

describe('PolicyEngine.authorizeCall', () => {
  it('refuses every approval when the tool namespace declares no approval action (fail closed)', () => {
    // The fixture domain predates approval actions: nobody may approve its tools, not even a declared approver.
    const approver = { uid: 'Charter::Approver::"alice"', parents: [], attrs: {} };
    const d = engine.authorizeCall(call({ approvalBy: 'alice' }), fixtures.with([approver]));
    expect(d).toMatchObject({ decision: 'deny', determiningPolicies: [], resource: 'Charter::Tenant::"acme"' });
    expect(d.reasons).toEqual([
      'no action Shop::Action::"approve" in Charter::Action::"approval": nobody may approve buy_item (fail closed)',
    ]);
  });

  it('allows an approved call within limits, naming the determining policy, tier, action and resource', () => {
    const d = engine.authorizeCall(call({}), fixtures);
    expect(d).toEqual({
      decision: 'allow',
      tier: 'write-high',
      action: 'Shop::Action::"buy_item"',
      resource: 'Shop::Item::"acme-widget"',
      determiningPolicies: ['buyer.buy'],
      reasons: ['allow by buyer.buy'],
      errors: [],
    });
  });

  it('counts distinct approvers: the same approver twice is one', () => {
    const d = engine.authorizeCall(call({ tool: 'close_shop', args: {}, approvers: ['alice', 'alice'] }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.determiningPolicies).toEqual(['base.critical-needs-dual-approval']);
    expect(engine.authorizeCall(call({ tool: 'close_shop', args: {}, approvers: ['alice', 'bob'] }), fixtures).decision).toBe('allow');
  });

  it('denies a tool that is not in the manifest, with a null tier', () => {
    const d = engine.authorizeCall(call({ tool: 'get_item' }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.tier).toBeNull();
    expect(d.reasons[0]).toMatch(/unknown tool get_item/);
  });

  it('denies another tenant’s resource by tenant isolation', () => {
    const d = engine.authorizeCall(call({ args: { itemId: 'globex-widget', quantity: 1 } }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.determiningPolicies).toEqual(['base.tenant-isolation']);
  });

  it('drops undeclared argument keys instead of failing (projection onto the input record)', () => {
    const d = engine.authorizeCall(call({ args: { itemId: 'acme-widget', quantity: 2, note: 'rush', nested: { a: 1 } } }), fixtures);
    expect(d.decision).toBe('allow');
  });

  it('uses the limits: an order above the tenant limit is denied', () => {
    const d = engine.authorizeCall(call({ limits: { maxOrderCents: 100 } }), fixtures);
    expect(d.determiningPolicies).toEqual(['shop.order-limit']);
    expect(d.decision).toBe('deny');
  });

  it('fails closed when the request does not fit the schema (a Cedar error is a deny with the error)', () => {
    const d = engine.authorizeCall(call({ limits: { maxOrderCents: 'lots' } }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.errors.join(' ')).toMatch(/maxOrderCents/);
  });

  it('fails closed on an argument of the wrong type', () => {
    const d = engine.authorizeCall(call({ args: { itemId: 'acme-widget', quantity: 'two' } }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.errors.length).toBeGreaterThan(0);
  });

  it('denies when the resource id argument is missing', () => {
    const d = engine.authorizeCall(call({ args: { quantity: 1 } }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/argument itemId \(the Shop::Item id\) is missing/);
  });

  it('denies when the resource cannot be resolved', () => {
    const d = engine.authorizeCall(call({ args: { itemId: 'nowhere', quantity: 1 } }), fixtures);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/resource Shop::Item::"nowhere" cannot be resolved/);
  });

  it('denies when the resolver throws', () => {
    const d = engine.authorizeCall(call({}), {
      resolve() {
        throw new Error('entity store down');
      },
    });
    expect(d.decision).toBe('deny');
    expect(d.errors).toEqual(['entity store down']);
  });

  it('an explicit resource overrides the mapping; a tenant-mapped tool addresses the caller tenant', () => {
    const explicit = engine.authorizeCall(call({ resource: { type: 'Shop::Item', id: 'globex-widget' } }), fixtures);
    expect(explicit.resource).toBe('Shop::Item::"globex-widget"');
    expect(explicit.decision).toBe('deny');
    const tenant = engine.authorizeCall(call({ tool: 'close_shop', args: {}, approvers: ['a', 'b'] }), fixtures);
    expect(tenant.resource).toBe('Charter::Tenant::"acme"');
  });

  it('an engine built from the test set decides the same as one built from the manifest', () => {
    const c = call({});
    expect(buyerSet.engine.authorizeCall(c, fixtures)).toEqual(engine.authorizeCall(c, fixtures));
  });
});
