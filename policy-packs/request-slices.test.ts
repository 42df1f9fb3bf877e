import { describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { cedar } from './cedar.js';
import { compileManifest } from './manifest.js';
import { policyReads } from './request-slices.js';
import { Workspace } from './workspace.js';

interface Reading {
  scope: unknown;
  contextAttrs: string[] | undefined;
  namesAction: boolean;
}

/** The same reading from Cedar's own JSON form of the policy (the reference; milliseconds a policy). */
function fromCedarJson(text: string): Reading {
  const json = cedar.policyToJson(text);
  if (json.type !== 'success') throw new Error(`not a policy: ${text}`);
  const p = json.json as unknown as { action: unknown; conditions: Array<{ body: unknown }> };
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
  return { scope: p.action, contextAttrs: whole ? undefined : [...attrs].sort(), namesAction };
}

function fromText(text: string): Reading {
  const r = policyReads(text);
  if (!r) throw new Error(`not read: ${text}`);
  return { scope: r.scope, contextAttrs: r.contextAttrs && [...r.contextAttrs].sort(), namesAction: r.namesActionInConditions };
}

describe('policyReads: the text reading agrees with Cedar', () => {
  it('on every policy of every shipped manifest', () => {
    const workspace = new Workspace(contentPath('policy-packs', 'packs'));
    const texts = new Set<string>();
    for (const agent of AGENT_NAMES) for (const p of Object.values(compileManifest(workspace, agent).manifest.policies)) texts.add(p.text);
    expect(texts.size).toBeGreaterThan(90);
    for (const text of texts) expect(fromText(text), text).toEqual(fromCedarJson(text));
  }, 120_000);

  it('on spellings a plain search would misread', () => {
    const samples = [
      '@id("a(b,c)") @note\npermit (principal, action in [A :: Action :: "x", B::Action::"y\\"z"], resource)\nwhen { context["limits"].max > 1 && context has input };',
      '// forbid (principal, action == X::Action::"no", resource)\nforbid (principal is Charter::Agent, action == P::Action :: "read", resource in Charter::Tenant::"t") unless { context\n  // comment\n  .tenant == principal };',
      'permit (principal, action, resource) when { context has "odd key" && resource.context == "context.x" };',
      'permit (principal, action in P::Action::"g", resource) when { context.input has amount && context.input.amount < 5 };',
    ];
    for (const text of samples) expect(fromText(text), text).toEqual(fromCedarJson(text));
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
