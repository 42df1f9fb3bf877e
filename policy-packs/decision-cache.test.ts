import { describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { digestJson } from '../signing/index.js';
import { DecisionCache } from './decision-cache.js';
import { manifestCorpus } from './diff.js';
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
  ];
}

const view = (d: CallDecision) => ({ ...d });

describe('decision cache: differential against fresh Cedar', () => {
  // Every shipped agent's manifest, over the whole pack corpus and generated variations of it:
  // the cached engine (first call a miss, second a hit) answers exactly as a fresh engine.
  it.each([...AGENT_NAMES])(
    '%s: every corpus request and its variations decide the same, miss and hit',
    (agent) => {
      const compiled = compileManifest(workspace, agent);
      const fresh = PolicyEngine.fromManifest(compiled.manifest, `diff-fresh:${compiled.digest}`);
      const cached = PolicyEngine.fromManifest(compiled.manifest, `diff-cached:${compiled.digest}`, { cache: { verifyEvery: 0 } });
      const cases = manifestCorpus([workspace], [{ manifest: compiled.manifest, digest: compiled.digest }], fresh);
      expect(cases.length).toBeGreaterThan(50);
      let askedCedar = 0;
      for (const c of cases) {
        for (const call of [c.call, ...variations(c.call)]) {
          const expected = view(fresh.authorizeCall(call, c.resolver));
          expect(view(cached.authorizeCall(call, c.resolver)), `${c.key} ${digestJson(call)}`).toEqual(expected);
          expect(view(cached.authorizeCall(call, c.resolver)), `${c.key} (hit)`).toEqual(expected);
          // Calls refused before Cedar (unknown tool, unresolvable resource) never reach the cache.
          if (!('refused' in fresh.cedarRequest(call, c.resolver))) askedCedar++;
        }
      }
      expect(askedCedar).toBeGreaterThan(cases.length);
      expect(cached.cache!.stats.hits).toBeGreaterThanOrEqual(askedCedar);
      expect(cached.cache!.disabledBecause).toBeUndefined();
    },
    180_000,
  );
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
