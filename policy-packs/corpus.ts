import { InputError } from '../common/index.js';
import { parseUid, uidText, type EntityUid } from './cedar.js';
import { TENANT_TYPE, type PolicyEngine, type ToolCall } from './engine.js';
import type { FixtureStore } from './fixtures.js';
import type { LoadedTest } from './load.js';
import type { ManifestTool } from './manifest-schema.js';

/** The agent name "*" stands for in runs without an intent pack. */
export const FIXTURE_AGENT = 'fixture-agent';

/** One concrete request of the test corpus: a test, expanded to one tool. */
export interface CorpusCase {
  /** Stable key: `<file>#<test name>[<tool>]`. */
  key: string;
  source: LoadedTest;
  call: ToolCall;
  resolver: FixtureStore;
}

export interface ExpandContext {
  /** The tools of the set under test. */
  tools: ManifestTool[];
  /** Every tool name any loaded pack knows (catalogs and fixture tools): other names are errors. */
  knownTools: Map<string, ManifestTool>;
  agent: string;
  fixtures: FixtureStore;
  entityTypes: Set<string>;
  /** Regression runs map a base stand-in tool onto the set's tools of the same tier. */
  regression: boolean;
}

function where(t: LoadedTest) {
  return { file: t.file, field: `tests["${t.test.name}"]` };
}

function toolsFor(t: LoadedTest, ctx: ExpandContext): ManifestTool[] | string[] {
  const sel = t.test.tool;
  if (typeof sel !== 'string') {
    const matched = ctx.tools.filter((x) => x.tier === sel.tier);
    if (matched.length === 0 && !ctx.regression) throw new InputError(`selector {tier: ${sel.tier}} matches no tool of the set under test`, where(t));
    return matched;
  }
  const inSet = ctx.tools.find((x) => x.name === sel);
  if (inSet) return [inSet];
  const known = ctx.knownTools.get(sel);
  if (!known) throw new InputError(`test names unknown tool '${sel}'`, where(t));
  if (ctx.regression && known.action.startsWith('Fixture::')) return ctx.tools.filter((x) => x.tier === known.tier);
  // A known tool the set does not grant: the call still runs and must be denied as an unknown tool.
  return [sel];
}

function tenantOf(uid: EntityUid, resolver: FixtureStore): string | undefined {
  return resolver.resolve(uid)?.find((e) => e.uid.type === TENANT_TYPE)?.uid.id;
}

/** Expands one test into concrete tool calls against a set's tools and fixtures. */
export function expandTest(t: LoadedTest, ctx: ExpandContext, engine: PolicyEngine): CorpusCase[] {
  const test = t.test;
  const resolver = ctx.fixtures.with(test.entities);
  const agent = test.agent === '*' ? ctx.agent : test.agent;
  const limits = test.limits ?? ctx.fixtures.limits.get(test.tenant) ?? {};
  return toolsFor(t, ctx).map((tool) => {
    const name = typeof tool === 'string' ? tool : tool.name;
    const call: ToolCall = { agent, tenant: test.tenant, tool: name, args: test.args, approvers: test.approvers, limits };
    const explicit = typeof test.resource === 'string' ? parseUid(test.resource)! : undefined;
    // A base stand-in resource in a regression run becomes "a resource of the same tenant".
    const owner = explicit && ctx.regression && explicit.type.startsWith('Fixture::') ? tenantOf(explicit, resolver) : undefined;
    const resource = owner ? { tenant: owner } : test.resource;
    if (typeof resource === 'string') {
      const uid = explicit!;
      if (!ctx.entityTypes.has(uid.type)) throw new InputError(`test names entity type ${uid.type}, which the schema does not declare`, where(t));
      if (!resolver.has(uid) && uid.type !== TENANT_TYPE) throw new InputError(`test names unknown entity ${test.resource} (not in any fixtures.yaml nor the test's entities)`, where(t));
      call.resource = uid;
    } else if (resource && typeof tool !== 'string') {
      const type = 'tenant' in tool.resource ? TENANT_TYPE : tool.resource.type;
      const uid = resolver.ownedBy(type, resource.tenant);
      if (!uid) throw new InputError(`no fixture entity of type ${type} owned by tenant ${resource.tenant} for tool ${name}`, where(t));
      call.resource = uid;
    } else if (typeof tool !== 'string') {
      const uid = engine.resourceOf(call);
      if (typeof uid !== 'string' && uid.type !== TENANT_TYPE && !resolver.has(uid)) {
        throw new InputError(`test's arguments name unknown entity ${uidText(uid)} (not in any fixtures.yaml nor the test's entities)`, where(t));
      }
    }
    return { key: `${t.file}#${test.name}[${name}]`, source: t, call, resolver };
  });
}
