import { describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { digestJson } from '../signing/index.js';
import { cedar, uidText } from './cedar.js';
import { DecisionCache } from './decision-cache.js';
import { manifestCorpus } from './diff.js';
import type { EntityUid } from './cedar.js';
import { PolicyEngine, type CallDecision, type ToolCall } from './engine.js';
import { compileManifest } from './manifest.js';
import { Workspace } from './workspace.js';

const workspace = new Workspace(contentPath('policy-packs', 'packs'));

/** Variations of a corpus call that move what Cedar reads: amounts, approvers, the tenant. */
function variations(call: ToolCall): ToolCall[] {
  const scaled = (f: number) =>
    Object.fromEntries(Object.entries(call.args).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * f) : v]));
  return [
    { ...call, args: scaled(0.5) },
    { ...call, args: scaled(10) },
    { ...call, approvers: ['approver-a'] },
    { ...call, approvers: ['approver-a', 'approver-b'] },
    { ...call, tenant: call.tenant === 'acme' ? 'globex' : 'acme' },
    // Input the schema would refuse or read differently: no fast form, the full request decides.
    { ...call, limits: {} },
    { ...call, limits: { ...call.limits, extra: 1 } },
    { ...call, args: Object.fromEntries(Object.entries(call.args).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])) },
    { ...call, args: Object.fromEntries(Object.entries(call.args).map(([k, v]) => [k, typeof v === 'number' ? v + 0.5 : v])) },
  ];
}

const view = (d: CallDecision) => ({ ...d });

describe('decision cache and fast request form: differential against fresh Cedar', () => {
  // Every shipped agent's manifest, over the whole pack corpus and generated variations of it:
  // the cached engine (first call a miss, second a hit) and the engine asking the fast form of
  // each request (policy slice, context slice, no per-call schema) answer exactly as a fresh
  // engine asking the full request. Neither re-checks itself here (verifyEvery 0).
  it.each([...AGENT_NAMES])(
    '%s: every corpus request and its variations decide the same, miss and hit, full and fast form',
    (agent) => {
      const compiled = compileManifest(workspace, agent);
      const fresh = PolicyEngine.fromManifest(compiled.manifest, `diff-fresh:${compiled.digest}`);
      const cached = PolicyEngine.fromManifest(compiled.manifest, `diff-cached:${compiled.digest}`, { cache: { verifyEvery: 0 } });
      const sliced = PolicyEngine.fromManifest(compiled.manifest, `diff-sliced:${compiled.digest}`, { slices: { verifyEvery: 0 } });
      expect(sliced.fastForm).toBe(true);
      const cases = manifestCorpus([workspace], [{ manifest: compiled.manifest, digest: compiled.digest }], fresh);
      expect(cases.length).toBeGreaterThan(50);
      let askedCedar = 0;
      for (const c of cases) {
        for (const call of [c.call, ...variations(c.call)]) {
          const expected = view(fresh.authorizeCall(call, c.resolver));
          expect(view(cached.authorizeCall(call, c.resolver)), `${c.key} ${digestJson(call)}`).toEqual(expected);
          expect(view(cached.authorizeCall(call, c.resolver)), `${c.key} (hit)`).toEqual(expected);
          expect(view(sliced.authorizeCall(call, c.resolver)), `${c.key} (fast form)`).toEqual(expected);
          // Calls refused before Cedar (unknown tool, unresolvable resource) never reach the cache.
          if (!('refused' in fresh.cedarRequest(call, c.resolver))) askedCedar++;
        }
        // Entity data the schema refuses (an undeclared attribute, a parent of the wrong type): no fast form.
        for (const odd of [
          { undeclared: 1, parents: undefined },
          { undeclared: undefined, parents: [{ type: 'Charter::Agent', id: 'x' }] },
        ]) {
          const resolver = {
            resolve: (uid: EntityUid) =>
              c.resolver.resolve(uid)?.map((e) => ({
                ...e,
                attrs: { ...e.attrs, ...(odd.undeclared ? { undeclared: 1 } : {}) },
                parents: odd.parents ?? e.parents,
              })),
          };
          // Cedar names whichever refused entity it meets first (its order varies), so the errors are compared by presence.
          const [fast, full] = [sliced, fresh].map((e) => {
            const { errors, ...rest } = e.authorizeCall(c.call, resolver);
            return { ...rest, errored: errors.length > 0 };
          });
          expect(fast, `${c.key} (odd entities)`).toEqual(full);
        }
      }
      expect(askedCedar).toBeGreaterThan(cases.length);
      expect(cached.cache!.stats.hits).toBeGreaterThanOrEqual(askedCedar);
      expect(cached.cache!.disabledBecause).toBeUndefined();
      // Most requests had a fast form; the ones the schema would refuse or read differently did not.
      expect(sliced.fastStats.fast).toBeGreaterThan(askedCedar / 2);
      expect(sliced.fastStats.full).toBeGreaterThan(0);
    },
    180_000,
  );
});

describe('fast request form: fails closed when it disagrees with Cedar', () => {
  const compiled = compileManifest(workspace, 'spot-bidding');

  it('a wrong policy slice is caught by the sampled re-check: that call is denied and the fast form turns itself off', () => {
    const id = `slice-poison:${compiled.digest}`;
    const engine = PolicyEngine.fromManifest(compiled.manifest, id, { slices: { verifyEvery: 1 } });
    const cases = manifestCorpus([workspace], [{ manifest: compiled.manifest, digest: compiled.digest }], engine);
    const allowed = cases.find((c) => engine.authorizeCall(c.call, c.resolver).decision === 'allow')!;
    expect(allowed).toBeDefined();
    const built = engine.cedarRequest(allowed.call, allowed.resolver);
    if ('refused' in built) throw new Error(built.refused);
    // Replace the action's pre-parsed slice with an empty set, as a slicing bug dropping its permit would.
    const action = built.request.action as { type: string; id: string };
    const resource = built.request.resource as { type: string; id: string };
    expect(cedar.preparsePolicySet(`${id}#${uidText(action)}#${resource.type}`, { staticPolicies: {} }).type).toBe('success');
    const d = engine.authorizeCall(allowed.call, allowed.resolver);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/fast form of the request disagreed with Cedar/);
    expect(engine.slicesOffBecause).toMatch(/fast form answered .*"deny".* the full request .*"allow"/);
    // Off for good: the full request decides from now on.
    expect(engine.fastForm).toBe(false);
    expect(engine.authorizeCall(allowed.call, allowed.resolver).decision).toBe('allow');
  });
});

describe('decision cache: fails closed when it disagrees with Cedar', () => {
  const compiled = compileManifest(workspace, 'spot-bidding');
  /** An allowed corpus call of the engine's manifest, with the request Cedar receives for it. */
  const probe = (engine: PolicyEngine) => {
    const cases = manifestCorpus([workspace], [{ manifest: compiled.manifest, digest: compiled.digest }], engine);
    const allowed = cases.find((c) => engine.authorizeCall(c.call, c.resolver).decision === 'allow');
    if (!allowed) throw new Error('the spot-bidding corpus has no allowed call');
    const built = engine.cedarRequest(allowed.call, allowed.resolver);
    if ('refused' in built) throw new Error(built.refused);
    return { call: allowed.call, resolver: allowed.resolver, request: built.request };
  };

  it('a poisoned entry is caught by the sampled re-check: that call is denied and the cache turns itself off', () => {
    const engine = PolicyEngine.fromManifest(compiled.manifest, `poison:${compiled.digest}`, { cache: { verifyEvery: 1 } });
    const { call, resolver, request } = probe(engine);
    // Turn the stored allow into a wrong deny, as a key that missed an input would.
    engine.cache!.store(DecisionCache.keyOf(request), { decision: 'deny', determining: ['forged'] });
    const d = engine.authorizeCall(call, resolver);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/decision cache disagreed with Cedar/);
    expect(engine.cache!.disabledBecause).toMatch(/cached deny \(forged\) differs from Cedar's allow/);
    // Off for good: the next call is Cedar's answer again, and nothing is stored.
    expect(engine.authorizeCall(call, resolver).decision).toBe('allow');
    expect(engine.cache!.size).toBe(0);
  });

  it('any change to the entity slice or context is a different key (no stale answer after a kill switch or approval)', () => {
    const engine = PolicyEngine.fromManifest(compiled.manifest, `keys:${compiled.digest}`, { cache: {} });
    const { request } = probe(engine);
    const key = DecisionCache.keyOf(request);
    const suspended = {
      ...request,
      entities: request.entities.map((e) =>
        'type' in e.uid && e.uid.type === 'Charter::Tenant' ? { ...e, attrs: { ...e.attrs, suspended: true } } : e,
      ),
    };
    expect(DecisionCache.keyOf(suspended)).not.toBe(key);
    const approved = { ...request, context: { ...(request.context as object), approval: { distinctApprovers: 1 } } };
    expect(DecisionCache.keyOf(approved)).not.toBe(key);
  });

  it('keeps at most maxEntries answers, dropping the least recently used', () => {
    const cache = new DecisionCache({ maxEntries: 2 });
    cache.store('a', { decision: 'allow', determining: ['p'] });
    cache.store('b', { decision: 'deny', determining: [] });
    expect(cache.lookup('a').hit).toBeDefined();
    cache.store('c', { decision: 'allow', determining: [] });
    expect(cache.lookup('b').hit).toBeUndefined();
    expect(cache.lookup('a').hit).toBeDefined();
    expect(cache.size).toBe(2);
  });
});
