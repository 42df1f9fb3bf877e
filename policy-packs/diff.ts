import { canonicalJson } from '../signing/index.js';
import { charterGroupsIn, expandTest, type CorpusCase } from './corpus.js';
import { PolicyEngine } from './engine.js';
import { FixtureStore } from './fixtures.js';
import type { Manifest, ManifestTool } from './manifest-schema.js';
import { entityTypes } from './schema-info.js';
import { cedar } from './cedar.js';
import type { Workspace } from './workspace.js';
import type { DecisionChange, ManifestDiff } from './diff-types.js';

export type { DecisionChange, ManifestDiff } from './diff-types.js';

export interface ManifestSide {
  manifest: Manifest;
  digest: string;
}

function keyDiff<T>(a: Record<string, T>, b: Record<string, T>, same: (x: T, y: T) => boolean) {
  const added = Object.keys(b)
    .filter((k) => !(k in a))
    .sort();
  const removed = Object.keys(a)
    .filter((k) => !(k in b))
    .sort();
  const changed = Object.keys(a)
    .filter((k) => k in b && !same(a[k]!, b[k]!))
    .sort();
  return { added, removed, changed };
}

/** Corpus cases for manifests: the tests of every pack any of them composes, over all their tool lists. */
export function manifestCorpus(workspaces: Workspace[], sides: ManifestSide[], engine: PolicyEngine): CorpusCase[] {
  const tools = new Map<string, ManifestTool>();
  for (const s of sides) for (const t of s.manifest.tools) tools.set(t.name, t);
  // The newer side first: its tools win above, so its schema answers for them.
  const schemas = sides
    .flatMap((s) => {
      const json = cedar.schemaToJsonWithResolvedTypes(s.manifest.schema.text);
      return json.type === 'success' ? [json.json] : [];
    })
    .reverse();
  const types = new Set(schemas.flatMap((json) => [...entityTypes(json)]));
  const names = new Set(sides.flatMap((s) => s.manifest.layers.map((l) => l.name)));
  const out = new Map<string, CorpusCase>();
  for (const ws of workspaces) {
    const packs = ws.catalog.latest().filter((p) => names.has(p.meta.name));
    const ctx = {
      tools: [...tools.values()],
      knownTools: new Map([...ws.knownTools(), ...tools]),
      charterGroups: charterGroupsIn([...schemas, ...ws.knownSchemas()]),
      agent: sides[sides.length - 1]!.manifest.agent.name,
      fixtures: FixtureStore.fromFiles(packs.flatMap((p) => p.fixtures)),
      entityTypes: types,
      regression: true,
    };
    for (const p of packs) for (const t of p.tests) for (const c of expandTest(t, ctx, engine)) if (!out.has(c.key)) out.set(c.key, c);
  }
  return [...out.values()];
}

/** Policies, tools and layers that differ, and the corpus requests whose decision changes. */
export function diffManifests(oldSide: ManifestSide, newSide: ManifestSide, workspaces: Workspace[]): ManifestDiff {
  const o = oldSide.manifest;
  const n = newSide.manifest;
  const policies = keyDiff(o.policies, n.policies, (x, y) => x.sha256 === y.sha256);
  const byName = (m: Manifest) => Object.fromEntries(m.tools.map((t) => [t.name, t]));
  const toolKeys = keyDiff(byName(o), byName(n), (x, y) => canonicalJson(x) === canonicalJson(y));
  const changedTools = toolKeys.changed.flatMap((name) => {
    const a = byName(o)[name]!;
    const b = byName(n)[name]!;
    return (['tier', 'action', 'resource', 'description', 'args'] as const)
      .filter((f) => canonicalJson(a[f]) !== canonicalJson(b[f]))
      .map((field) => ({ name, field, old: a[field], new: b[field] }));
  });
  const layerNames = [...new Set([...o.layers, ...n.layers].map((l) => l.name))].sort();
  const layers = layerNames
    .map((name) => ({
      name,
      old: o.layers.find((l) => l.name === name)?.version ?? null,
      new: n.layers.find((l) => l.name === name)?.version ?? null,
      od: o.layers.find((l) => l.name === name)?.digest,
      nd: n.layers.find((l) => l.name === name)?.digest,
    }))
    .filter((l) => l.od !== l.nd)
    .map(({ name, old, new: nv }) => ({ name, old, new: nv }));
  // Distinct pre-parse ids: two manifests with the same digest are the same policy set anyway.
  const oldEngine = PolicyEngine.fromManifest(o, `diff-old:${oldSide.digest}`);
  const newEngine = PolicyEngine.fromManifest(n, `diff-new:${newSide.digest}`);
  const cases = manifestCorpus(workspaces, [oldSide, newSide], newEngine);
  const decisions: DecisionChange[] = [];
  for (const c of cases) {
    const a = oldEngine.authorizeCall(c.call, c.resolver);
    const b = newEngine.authorizeCall(c.call, c.resolver);
    if (a.decision === b.decision && canonicalJson(a.determiningPolicies) === canonicalJson(b.determiningPolicies)) continue;
    decisions.push({
      key: c.key,
      decisionChanged: a.decision !== b.decision,
      tool: c.call.tool,
      tenant: c.call.tenant,
      old: { decision: a.decision, determining: a.determiningPolicies },
      new: { decision: b.decision, determining: b.determiningPolicies },
    });
  }
  decisions.sort((x, y) => Number(y.decisionChanged) - Number(x.decisionChanged));
  return {
    old: oldSide.digest,
    new: newSide.digest,
    baseChanged: o.baseDigest !== n.baseDigest,
    policies,
    tools: { added: toolKeys.added, removed: toolKeys.removed, changed: changedTools },
    layers,
    decisions,
    corpusSize: cases.length,
  };
}
