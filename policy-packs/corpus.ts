import { InputError } from '../common/index.js';
import { parseUid, uidText, type cedar, type EntityUid } from './cedar.js';
import { TENANT_TYPE, type PolicyEngine, type ToolCall } from './engine.js';
import type { FixtureStore } from './fixtures.js';
import type { LoadedTest } from './load.js';
import type { ManifestTool } from './manifest-schema.js';
import { actionGroups, actionInfo } from './schema-info.js';

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
  /** Base's view of a tool's action (see charterGroupsIn); undefined when no schema declares it. */
  charterGroups: (tool: ManifestTool) => string | undefined;
  agent: string;
  fixtures: FixtureStore;
  entityTypes: Set<string>;
  /** Regression runs put a base stand-in tool on the set's tools that base cannot tell from it. */
  regression: boolean;
}

// Base owns the Charter namespace: its policies can name only these action groups.
const BASE_ACTION_GROUP = 'Charter::Action::';

/**
 * A tool's Charter action groups (its tier and categories such as config-write, joined), from
 * the first schema that declares its action. Two tools with the same groups look alike to base.
 */
export function charterGroupsIn(schemas: ReadonlyArray<cedar.SchemaJson<string>>): (tool: ManifestTool) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (tool) => {
    if (!cache.has(tool.action)) {
      const uid = parseUid(tool.action);
      const schema = uid && schemas.find((s) => actionInfo(s, uid));
      cache.set(
        tool.action,
        schema
          ? actionGroups(schema, uid)
              .filter((g) => g.startsWith(BASE_ACTION_GROUP))
              .join(' ')
          : undefined,
      );
    }
    return cache.get(tool.action);
  };
}

const isStandIn = (tool: ManifestTool | undefined) => tool?.action.startsWith('Fixture::') ?? false;

function where(t: LoadedTest) {
  return { file: t.file, field: `tests["${t.test.name}"]` };
}

function toolsFor(t: LoadedTest, ctx: ExpandContext): ManifestTool[] | string[] {
  const sel = t.test.tool;
  if (typeof sel !== 'string') {
    const matched = ctx.tools.filter((x) => x.tier === sel.tier);
    if (matched.length === 0 && !ctx.regression)
      throw new InputError(`selector {tier: ${sel.tier}} matches no tool of the set under test`, where(t));
    return matched;
  }
  const inSet = ctx.tools.find((x) => x.name === sel);
  if (inSet) return [inSet];
  const known = ctx.knownTools.get(sel);
  if (!known) throw new InputError(`test names unknown tool '${sel}'`, where(t));
  if (ctx.regression && isStandIn(known)) {
    // Base policies see an action only through its Charter groups (tier, categories such as
    // config-write), and a resource only through its tenant (standInResource). A stand-in
    // therefore stands for each of the agent's tools in exactly its Charter groups: there the
    // base test's rule applies as in the base run, so "deny stays deny" tests that rule and not a
    // fixture or a missing argument. By tier alone, a config-write test would run on a critical
    // tool that is no config write and hold only by luck. An agent without such a tool has no
    // case: it cannot make that call (the gateway denies tools outside its manifest).
    const groups = ctx.charterGroups(known);
    return groups === undefined ? [] : ctx.tools.filter((x) => ctx.charterGroups(x) === groups);
  }
  // A known tool the set does not grant: the call still runs and must be denied as an unknown tool.
  return [sel];
}

function tenantOf(uid: EntityUid, resolver: FixtureStore): string | undefined {
  return resolver.resolve(uid)?.find((e) => e.uid.type === TENANT_TYPE)?.uid.id;
}

/**
 * In a regression run, the resource of a base stand-in call becomes "an entity of the same
 * tenant" of the real tool's type: the explicit resource (a Fixture entity, or the tenant itself
 * for a stand-in tool), else the one the stand-in tool's mapping takes from the arguments or the
 * caller's tenant. Undefined when the test's resource needs no mapping.
 */
function standInResource(t: LoadedTest, ctx: ExpandContext, resolver: FixtureStore): { tenant: string } | undefined {
  const test = t.test;
  const standIn = typeof test.tool === 'string' ? ctx.knownTools.get(test.tool) : undefined;
  let uid: EntityUid | undefined;
  if (typeof test.resource === 'string') {
    uid = parseUid(test.resource)!;
    if (!uid.type.startsWith('Fixture::') && !(isStandIn(standIn) && uid.type === TENANT_TYPE)) return undefined;
  } else if (test.resource === undefined && standIn && isStandIn(standIn)) {
    const mapping = standIn.resource;
    if ('tenant' in mapping) return { tenant: test.tenant };
    const id = test.args[mapping.idArg];
    if (typeof id === 'string') uid = { type: mapping.type, id };
  }
  const owner = uid && (uid.type === TENANT_TYPE ? uid.id : tenantOf(uid, resolver));
  return owner === undefined ? undefined : { tenant: owner };
}

/** Expands one test into concrete tool calls against a set's tools and fixtures. */
export function expandTest(t: LoadedTest, ctx: ExpandContext, engine: PolicyEngine): CorpusCase[] {
  const test = t.test;
  const resolver = ctx.fixtures.with(test.entities);
  const agent = test.agent === '*' ? ctx.agent : test.agent;
  const limits = test.limits ?? ctx.fixtures.limits.get(test.tenant) ?? {};
  const standInTenant = ctx.regression ? standInResource(t, ctx, resolver) : undefined;
  return toolsFor(t, ctx).map((tool) => {
    const name = typeof tool === 'string' ? tool : tool.name;
    const call: ToolCall = { agent, tenant: test.tenant, tool: name, args: test.args, approvers: test.approvers, limits };
    if (test.approver !== undefined) call.approvalBy = test.approver;
    const resource = standInTenant ?? test.resource;
    if (typeof resource === 'string') {
      const uid = parseUid(resource)!;
      if (!ctx.entityTypes.has(uid.type))
        throw new InputError(`test names entity type ${uid.type}, which the schema does not declare`, where(t));
      if (!resolver.has(uid) && uid.type !== TENANT_TYPE)
        throw new InputError(`test names unknown entity ${test.resource} (not in any fixtures.yaml nor the test's entities)`, where(t));
      call.resource = uid;
    } else if (resource && typeof tool !== 'string') {
      const type = 'tenant' in tool.resource ? TENANT_TYPE : tool.resource.type;
      const uid = resolver.ownedBy(type, resource.tenant);
      if (!uid) throw new InputError(`no fixture entity of type ${type} owned by tenant ${resource.tenant} for tool ${name}`, where(t));
      call.resource = uid;
    } else if (typeof tool !== 'string') {
      const uid = engine.resourceOf(call);
      if (typeof uid !== 'string' && uid.type !== TENANT_TYPE && !resolver.has(uid)) {
        throw new InputError(
          `test's arguments name unknown entity ${uidText(uid)} (not in any fixtures.yaml nor the test's entities)`,
          where(t),
        );
      }
    }
    return { key: `${t.file}#${test.name}[${name}]`, source: t, call, resolver };
  });
}
