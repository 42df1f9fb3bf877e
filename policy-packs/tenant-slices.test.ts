import { describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';
import { cedar, cedarErrorText } from './cedar.js';
import { plainPermitScope } from './compose.js';
import { manifestCorpus } from './diff.js';
import { PolicyEngine, type ToolCall } from './engine.js';
import { compileManifest } from './manifest.js';
import type { Manifest } from './manifest-schema.js';
import { tenantGuardOf } from './tenant-slices.js';
import { Workspace } from './workspace.js';

const workspace = new Workspace(contentPath('policy-packs', 'packs'));

/** The tenant of a leading `when { context.tenant == Charter::Tenant::"id" }`, read from Cedar's own JSON of the policy. */
function guardByCedar(text: string): string | undefined {
  const json = cedar.policyToJson(text);
  if (json.type === 'failure') throw new Error(cedarErrorText(json.errors).join('; '));
  const first = json.json.conditions[0];
  const eq = first?.kind === 'when' ? (first.body as { '=='?: { left: unknown; right: unknown } })['=='] : undefined;
  const left = eq?.left as { '.'?: { left: { Var?: string }; attr: string } } | undefined;
  const right = eq?.right as { Value?: { __entity?: { type: string; id: string } } } | undefined;
  if (left?.['.']?.left.Var !== 'context' || left['.'].attr !== 'tenant') return undefined;
  return right?.Value?.__entity?.type === 'Charter::Tenant' ? right.Value.__entity.id : undefined;
}

const guarded = [
  '@id("a")\nforbid (principal, action, resource)\nwhen { context.tenant == Charter::Tenant::"t1" };',
  '@id("a") @advice("x") // c\npermit (principal == Charter::Agent::"a)", action in Charter::Action::"tier:read", resource) // )\nwhen {context.tenant==Charter::Tenant::"t 2"}\nwhen { false } unless { true };',
];
const notGuarded = [
  // The guard is not the first thing evaluated, or is not the whole clause, or is written another way.
  'permit (principal, action, resource) when { true } when { context.tenant == Charter::Tenant::"t1" };',
  'permit (principal, action, resource) unless { false } when { context.tenant == Charter::Tenant::"t1" };',
  'permit (principal, action, resource) when { context.tenant == Charter::Tenant::"t1" || true };',
  'permit (principal, action, resource) when { context.tenant == Charter::Tenant::"t1" && context.x };',
  'permit (principal, action, resource) when { Charter::Tenant::"t1" == context.tenant };',
  'permit (principal, action, resource) when { context.tenant == Charter::Tenant::"t\\u{31}" };',
  'permit (principal, action, resource) when { // c\n context.tenant == Charter::Tenant::"t1" };',
  'permit (principal, action, resource) when { context["tenant"] == Charter::Tenant::"t1" };',
  'permit (principal, action, resource) when { context.tenant == Other::Tenant::"t1" };',
  '@advice("\\"") permit (principal, action, resource) when { context.tenant == Charter::Tenant::"t1" };',
];

describe('tenantGuardOf', () => {
  it('reads the leading tenant guard exactly where Cedar reads it, and nothing else', () => {
    expect(guarded.map(tenantGuardOf)).toEqual(['t1', 't 2']);
    expect(guarded.map(guardByCedar)).toEqual(['t1', 't 2']);
    for (const text of notGuarded) expect(tenantGuardOf(text), text).toBeUndefined();
  });
});

describe('plainPermitScope', () => {
  it("reads principal and action scope as Cedar's JSON has them, for every shipped policy and odd spellings", () => {
    const texts = workspace.catalog.latest().flatMap((p) => p.policies.map((x) => x.text));
    texts.push(
      'permit (principal == A::B::"x", action in A::Action::"g", resource);',
      'permit (principal, action, resource is A::R);',
      'permit (principal == A::"x" , action == A::Action::"y" , resource in A::"z");',
      // Not the plain form: Cedar answers.
      'permit (principal == A :: "x", action, resource);',
      'permit (principal in A::"x", action, resource);',
      'permit (principal, action in [A::Action::"y"], resource);',
      'permit (principal == A::"\\u{78}", action, resource);',
    );
    let plain = 0;
    for (const text of texts) {
      const read = plainPermitScope(text.replace(/\b(forbid)\b/, 'permit'));
      if (!read) continue;
      plain++;
      const json = cedar.policyToJson(text.replace(/\b(forbid)\b/, 'permit'));
      if (json.type === 'failure') throw new Error(cedarErrorText(json.errors).join('; '));
      expect(read, text).toEqual({ principal: json.json.principal, action: json.json.action });
    }
    expect(plain).toBeGreaterThan(30);
  });
});

describe('tenant slices: differential against the whole set', () => {
  // Every policy of an agent's manifest also as copies guarded for the corpus tenants and another,
  // plus policies that error after a guard or before one: the engine asks Cedar only the request
  // tenant's slice; the whole set, pre-parsed as one, must give the same decision, determining
  // policies and errors for every corpus call and its other-tenant variation.
  it.each(['spot-bidding', 'bid-evaluation'])(
    '%s',
    (agent) => {
      const compiled = compileManifest(workspace, agent);
      const policies: Record<string, string> = {};
      const guard = (text: string, tenant: string) =>
        text.replace(/\)(\s*(?:when|unless|;))/, `)\nwhen { context.tenant == Charter::Tenant::"${tenant}" }$1`);
      for (const [id, p] of Object.entries(compiled.manifest.policies)) {
        policies[id] = p.text;
        for (const tenant of ['acme', 'globex', 'initech']) {
          const copy = guard(p.text.replace(/@id\("[^"]*"\)/, `@id("${id}.${tenant}")`), tenant);
          expect(tenantGuardOf(copy), copy).toBe(tenant);
          policies[`${id}.${tenant}`] = copy;
        }
      }
      // 2^63 - 1 + 1 overflows: an evaluation error wherever it is reached.
      policies['overflow.after-guard'] =
        'forbid (principal, action, resource) when { context.tenant == Charter::Tenant::"initech" } when { 9223372036854775807 + 1 > 0 };';
      policies['overflow.before-guard'] =
        'forbid (principal, action, resource) when { 9223372036854775807 + 1 > 0 } when { context.tenant == Charter::Tenant::"initech" };';
      const manifest: Manifest = {
        ...compiled.manifest,
        policies: Object.fromEntries(Object.entries(policies).map(([id, text]) => [id, { pack: 'x', file: 'x.cedar', text, sha256: '' }])),
      };
      const sliced = PolicyEngine.fromManifest(manifest, `tenant-slices:${agent}`);
      const whole = `tenant-slices-whole:${agent}`;
      expect(cedar.preparsePolicySet(whole, { staticPolicies: policies }).type).toBe('success');
      const cases = manifestCorpus([workspace], [{ manifest, digest: compiled.digest }], sliced);
      expect(cases.length).toBeGreaterThan(50);
      const answer = (a: cedar.AuthorizationAnswer) =>
        a.type === 'failure'
          ? { failure: cedarErrorText(a.errors) }
          : {
              decision: a.response.decision,
              reason: [...a.response.diagnostics.reason].sort(),
              errors: a.response.diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).sort(),
            };
      const seen = { sliced: 0, errors: 0, ownCopies: 0 };
      for (const c of cases) {
        const calls: ToolCall[] = [c.call, { ...c.call, tenant: c.call.tenant === 'acme' ? 'initech' : 'acme' }];
        for (const call of calls) {
          const built = sliced.cedarRequest(call, c.resolver);
          if ('refused' in built) continue;
          expect(built.request.preparsedPolicySetId).not.toBe(`tenant-slices:${agent}`);
          seen.sliced++;
          const mine = answer(cedar.statefulIsAuthorized(built.request));
          expect(mine, c.key).toEqual(answer(cedar.statefulIsAuthorized({ ...built.request, preparsedPolicySetId: whole })));
          if ('errors' in mine && mine.errors!.length > 0) seen.errors++;
          if ('reason' in mine && mine.reason!.some((id) => id.endsWith(`.${call.tenant}`))) seen.ownCopies++;
          // The engine's decision is the sliced answer's.
          expect(sliced.authorizeCall(call, c.resolver).decision).toBe(
            'decision' in mine ? (mine.errors!.length ? 'deny' : mine.decision) : 'deny',
          );
        }
      }
      expect(seen.sliced).toBeGreaterThan(cases.length);
      expect(seen.errors).toBeGreaterThan(0);
      expect(seen.ownCopies).toBeGreaterThan(0);
    },
    180_000,
  );
});
