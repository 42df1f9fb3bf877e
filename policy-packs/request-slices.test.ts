import { describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { cedar } from './cedar.js';
import { compileManifest } from './manifest.js';
import { policyReads, RequestSlices } from './request-slices.js';
import { Workspace } from './workspace.js';

interface Reading {
  scope: unknown;
  resourceIs: string | undefined;
  contextAttrs: string[] | undefined;
  namesAction: boolean;
}

/** The same reading from Cedar's own JSON form of the policy (the reference; milliseconds a policy). */
function fromCedarJson(text: string): Reading {
  const json = cedar.policyToJson(text);
  if (json.type !== 'success') throw new Error(`not a policy: ${text}`);
  const p = json.json as unknown as {
    action: unknown;
    resource: { op: string; entity_type?: string };
    conditions: Array<{ body: unknown }>;
  };
  const attrs = new Set<string>();
  let whole = false;
  let namesAction = false;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    for (const op of ['.', 'has']) {
      const access = o[op] as { left?: { Var?: string }; attr?: string } | undefined;
      if (access?.left?.Var === 'context' && typeof access.attr === 'string') {
        attrs.add(access.attr);
        return;
      }
    }
    if (o.Var === 'context') whole = true;
    const literal = (o.Value as { __entity?: { type: string } } | undefined)?.__entity;
    if (literal?.type.endsWith('::Action')) namesAction = true;
    Object.values(o).forEach(walk);
  };
  p.conditions.forEach((c) => walk(c.body));
  const resourceIs = p.resource.op === 'is' ? p.resource.entity_type : undefined;
  return { scope: p.action, resourceIs, contextAttrs: whole ? undefined : [...attrs].sort(), namesAction };
}

function fromText(text: string): Reading {
  const r = policyReads(text);
  if (!r) throw new Error(`not read: ${text}`);
  return {
    scope: r.scope,
    resourceIs: r.resourceIs,
    contextAttrs: r.contextAttrs && [...r.contextAttrs].sort(),
    namesAction: r.namesActionInConditions,
  };
}

/** Every attribute name Cedar's JSON form of a policy reads (`.` and `has` on anything): what the entity attributes sent must keep. */
function attributeReads(text: string): string[] {
  const json = cedar.policyToJson(text);
  if (json.type !== 'success') throw new Error(`not a policy: ${text}`);
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    for (const op of ['.', 'has']) {
      const attr = (o[op] as { attr?: unknown } | undefined)?.attr;
      if (typeof attr === 'string') out.add(attr);
    }
    Object.values(o).forEach(walk);
  };
  walk((json.json as unknown as { conditions: unknown[] }).conditions);
  return [...out];
}

describe('policyReads: the text reading agrees with Cedar', () => {
  it('on every policy of every shipped manifest', () => {
    const workspace = new Workspace(contentPath('policy-packs', 'packs'));
    const texts = new Set<string>();
    for (const agent of AGENT_NAMES) for (const p of Object.values(compileManifest(workspace, agent).manifest.policies)) texts.add(p.text);
    expect(texts.size).toBeGreaterThan(90);
    for (const text of texts) {
      expect(fromText(text), text).toEqual(fromCedarJson(text));
      // Every attribute the policy reads is among the names kept (entity attributes named nowhere are dropped).
      const names = policyReads(text)!.names!;
      for (const attr of attributeReads(text)) expect(names.has(attr), `${attr} in ${text}`).toBe(true);
    }
  }, 120_000);

  it('on spellings a plain search would misread', () => {
    const samples = [
      '@id("a(b,c)") @note\npermit (principal, action in [A :: Action :: "x", B::Action::"y\\"z"], resource)\nwhen { context["limits"].max > 1 && context has input };',
      '// forbid (principal, action == X::Action::"no", resource)\nforbid (principal is Charter::Agent, action == P::Action :: "read", resource in Charter::Tenant::"t") unless { context\n  // comment\n  .tenant == principal };',
      'permit (principal, action, resource) when { context has "odd key" && resource.context == "context.x" };',
      'permit (principal, action in P::Action::"g", resource) when { context.input has amount && context.input.amount < 5 };',
      'forbid (principal, action, resource is P :: Doc in P::Tenant::"t");',
      'forbid (principal, action, resource in P::Doc::"d");',
      'forbid (principal, action, resource == P::Doc::"d");',
    ];
    for (const text of samples) {
      expect(fromText(text), text).toEqual(fromCedarJson(text));
      for (const attr of attributeReads(text)) expect(policyReads(text)!.names!.has(attr), `${attr} in ${text}`).toBe(true);
    }
  });

  it('keeps no name it cannot decode: a literal with an escape JSON reads differently drops nothing', () => {
    expect(policyReads('permit (principal, action, resource) when { resource has "a\\u{62}" };')!.names).toBeUndefined();
    expect([...policyReads('permit (principal, action, resource) when { resource["odd key"] == principal.tier };')!.names!].sort()).toEqual(
      ['odd key', 'principal', 'resource', 'tier', 'when'].sort(),
    );
  });

  it('is conservative where it cannot follow: the whole context, an action named in a condition', () => {
    for (const text of [
      'permit (principal, action, resource) when { context == {} };',
      'permit (principal, action, resource) when { {context: 1}.context == 1 && context.a == 1 };',
    ])
      expect(policyReads(text)!.contextAttrs, text).toBeUndefined();
    expect(policyReads('permit (principal, action, resource) when { action in P::Action::"g" };')!.namesActionInConditions).toBe(true);
  });
});

describe('fast request form: entity attributes', () => {
  const schemaText = `namespace P {
    entity Tenant = { suspended: Bool };
    entity Agent = { suspended: Bool };
    entity Doc in [Tenant] = { status: String, secret: String };
    action read appliesTo { principal: Agent, resource: Doc, context: { n: Long } };
  }`;
  const policies = {
    open: 'permit (principal, action == P::Action::"read", resource) when { resource.status == "open" && !principal.suspended };',
  };
  const json = cedar.schemaToJsonWithResolvedTypes(schemaText);
  if (json.type !== 'success') throw new Error('test schema does not parse');
  expect(cedar.preparsePolicySet('attrs-full', { staticPolicies: policies }).type).toBe('success');
  expect(cedar.preparseSchema('attrs-schema', schemaText).type).toBe('success');
  const slices = RequestSlices.build('attrs-full', policies, json.json, [{ type: 'P::Action', id: 'read' }])!;
  const request = (doc: Record<string, unknown>): cedar.StatefulAuthorizationCall => ({
    principal: { type: 'P::Agent', id: 'a' },
    action: { type: 'P::Action', id: 'read' },
    resource: { type: 'P::Doc', id: 'd' },
    context: { n: 1 },
    preparsedPolicySetId: 'attrs-full',
    preparsedSchemaName: 'attrs-schema',
    validateRequest: true,
    entities: [
      { uid: { type: 'P::Doc', id: 'd' }, attrs: doc as Record<string, cedar.CedarValueJson>, parents: [{ type: 'P::Tenant', id: 't' }] },
      { uid: { type: 'P::Agent', id: 'a' }, attrs: { suspended: false }, parents: [] },
    ],
  });
  const decision = (q: cedar.StatefulAuthorizationCall) => {
    const a = cedar.statefulIsAuthorized(q);
    return a.type === 'success' && a.response.diagnostics.errors.length === 0 ? a.response.decision : 'error';
  };

  it('sends only the attributes a policy of the slice names, and decides as the full request', () => {
    for (const status of ['open', 'closed']) {
      const full = request({ status, secret: 'not read by any policy' });
      const fast = slices.fastForm(full)!;
      expect(fast.entities[0]).toEqual({ uid: { type: 'P::Doc', id: 'd' }, attrs: { status }, parents: [{ type: 'P::Tenant', id: 't' }] });
      // Every attribute of the agent is read: the entity is sent as it was.
      expect(fast.entities[1]).toBe(full.entities[1]);
      expect(decision(fast)).toBe(decision(full));
    }
    expect(decision(request({ status: 'open', secret: 'x' }))).toBe('allow');
  });

  it('checks the entity whole before dropping: an unread attribute the schema refuses leaves no fast form', () => {
    const full = request({ status: 'open', secret: 5 });
    expect(decision(full)).toBe('error');
    expect(slices.fastForm(full)).toBeUndefined();
    expect(slices.fastForm(request({ status: 'open', secret: 'x', undeclared: true }))).toBeUndefined();
  });
});

describe('fast request form: the action hierarchy', () => {
  const schemaText = `namespace P {
    entity Agent;
    entity Doc;
    action "tier:read";
    action read in ["tier:read"] appliesTo { principal: Agent, resource: Doc, context: { n: Long } };
  }`;
  const json = cedar.schemaToJsonWithResolvedTypes(schemaText);
  if (json.type !== 'success') throw new Error('test schema does not parse');
  expect(cedar.preparseSchema('hierarchy-schema', schemaText).type).toBe('success');
  const read = { type: 'P::Action', id: 'read' };
  const request = (set: string): cedar.StatefulAuthorizationCall => ({
    principal: { type: 'P::Agent', id: 'a' },
    action: read,
    resource: { type: 'P::Doc', id: 'd' },
    context: { n: 1 },
    preparsedPolicySetId: set,
    preparsedSchemaName: 'hierarchy-schema',
    validateRequest: true,
    entities: [],
  });
  const decide = (q: cedar.StatefulAuthorizationCall) => {
    const a = cedar.statefulIsAuthorized(q);
    return a.type === 'success' && a.response.diagnostics.errors.length === 0 ? a.response.decision : 'error';
  };
  const cases: Array<{ name: string; policies: Record<string, string>; sendsHierarchy: boolean; decision: string }> = [
    {
      name: 'scopes by uid only',
      policies: { p: 'permit (principal, action == P::Action::"read", resource);' },
      sendsHierarchy: false,
      decision: 'allow',
    },
    {
      name: 'a scope with no action constraint',
      policies: { p: 'permit (principal, action, resource);' },
      sendsHierarchy: false,
      decision: 'allow',
    },
    {
      name: 'an `in` scope',
      policies: { p: 'permit (principal, action in P::Action::"tier:read", resource);' },
      sendsHierarchy: true,
      decision: 'allow',
    },
    {
      name: 'a condition that reads `action`',
      policies: { p: 'permit (principal, action, resource) when { action in action };' },
      sendsHierarchy: true,
      decision: 'allow',
    },
  ];
  it.each(cases)('$name', ({ name, policies, sendsHierarchy, decision }) => {
    const id = `hierarchy:${name}`;
    expect(cedar.preparsePolicySet(id, { staticPolicies: policies }).type).toBe('success');
    const full = request(id);
    const fast = RequestSlices.build(id, policies, json.json, [read])!.fastForm(full)!;
    const actions = fast.entities.filter((e) => (e.uid as { type: string }).type.endsWith('::Action'));
    expect(actions.length > 0).toBe(sendsHierarchy);
    expect(decide(full)).toBe(decision);
    expect(decide(fast)).toBe(decision);
    // Where the hierarchy is sent it is needed: an `in` scope without it would deny.
    if (name === 'an `in` scope') expect(decide({ ...fast, entities: [] })).toBe('deny');
  });
});
