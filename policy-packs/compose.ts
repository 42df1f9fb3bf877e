import { FindingError, InputError, offsetToLineColumn } from '../common/index.js';
import { cedar, cedarErrorText, policyDiagnostic, type EntityUid } from './cedar.js';
import { AGENT_TYPE, APPROVAL_GROUP, TENANT_TYPE } from './engine.js';
import { effectOf, leadingTokensEnd, type LoadedPack, type PackPolicy, type SourceText } from './load.js';
import type { ManifestTool } from './manifest-schema.js';
import { RiskTier, type AgentDeclaration } from './pack-file.js';
import { LAYER_RANK } from './resolve.js';
import { actionGroups, actionInfo, actions, entityTypes } from './schema-info.js';
import { PolicyValidator } from './strict-validation.js';

/** A resolved set of packs composed into one policy set, schema and tool list. */
export interface ComposedSet {
  /** The agent name, or the root pack key for sets without an intent pack. */
  name: string;
  packs: LoadedPack[];
  agent?: AgentDeclaration;
  policies: Map<string, PackPolicy>;
  schemaText: string;
  schemaJson: cedar.SchemaJson<string>;
  /** Namespace -> owning pack name. */
  namespaces: Map<string, string>;
  /** The tools decisions run over: the agent's tools, else the catalog, else base's fixture tools. */
  tools: ManifestTool[];
  entityTypes: Set<string>;
}

const TIER_GROUP = (tier: string) => `Charter::Action::"tier:${tier}"`;
const TIER_PREFIX = 'Charter::Action::"tier:';

interface Fragment extends SourceText {
  pack: LoadedPack;
  start: number;
}

type ComposedSchema = { text: string; json: cedar.SchemaJson<string>; namespaces: Map<string, string> };

// Every agent of a domain shares its schema fragments: compose each distinct fragment list once.
const schemaCache = new Map<string, ComposedSchema>();

function composeSchemaCached(packs: LoadedPack[], extra?: { pack: LoadedPack; source: SourceText }): ComposedSchema {
  const key = JSON.stringify([
    ...packs.filter((p) => p.schema).map((p) => [p.key, p.dir, p.schema!.text]),
    extra ? extra.source.text : null,
  ]);
  let out = schemaCache.get(key);
  if (!out) {
    out = composeSchema(packs, extra);
    schemaCache.set(key, out);
  }
  return out;
}

/** Composes the schema fragments in layer order, enforcing namespace ownership. */
function composeSchema(packs: LoadedPack[], extra?: { pack: LoadedPack; source: SourceText }): ComposedSchema {
  const sources: Array<{ pack: LoadedPack; source: SourceText }> = packs.flatMap((p) => (p.schema ? [{ pack: p, source: p.schema }] : []));
  if (extra) sources.push(extra);
  const namespaces = new Map<string, string>();
  const fragments: Fragment[] = [];
  let text = '';
  let json: cedar.SchemaJson<string> = {};
  for (const { pack, source } of sources) {
    const header = `// ${pack.key}: ${source.file}\n`;
    const candidate = `${text}${header}${source.text}${source.text.endsWith('\n') ? '' : '\n'}`;
    const start = text.length + header.length;
    // Resolved types are what the rest of the compiler reads; this conversion is also several
    // times cheaper in cedar-wasm than plain schemaToJson, and the last prefix is the whole schema.
    const out = cedar.schemaToJsonWithResolvedTypes(candidate);
    if (out.type === 'failure') {
      // The conversion reports resolution errors at offset 0; checkParseSchema locates them.
      const checked = cedar.checkParseSchema(candidate);
      const errors = checked.type === 'failure' ? checked.errors : out.errors;
      const dup = /duplicate namespace id: `([^`]*)`/.exec(errors[0]?.message ?? '');
      // Declared twice within one fragment: no earlier pack owns it, and Cedar's own message says so.
      const owner = dup ? namespaces.get(dup[1]!) : undefined;
      if (dup && owner) {
        const ns = dup[1]!;
        const ownerLayer = packs.find((p) => p.meta.name === owner)?.meta.layer ?? 'base';
        const why =
          LAYER_RANK[ownerLayer] < LAYER_RANK[pack.meta.layer]
            ? ` (a ${pack.meta.layer} pack may not change or remove ${ownerLayer} schema types)`
            : '';
        throw new FindingError(`pack ${pack.meta.name} declares namespace ${ns}, which pack ${owner} owns${why}`, { file: source.file });
      }
      const at = errors[0]?.sourceLocations?.[0]?.start;
      const frag = at === undefined ? undefined : [...fragments, { ...source, pack, start }].reverse().find((f) => at >= f.start);
      const loc = frag && at !== undefined ? { file: frag.file, ...offsetToLineColumn(frag.text, at - frag.start) } : { file: source.file };
      throw new InputError(`invalid Cedar schema: ${cedarErrorText(errors).join('; ')}`, loc);
    }
    for (const ns of Object.keys(out.json)) if (!namespaces.has(ns)) namespaces.set(ns, pack.meta.name);
    fragments.push({ ...source, pack, start });
    text = candidate;
    json = out.json;
  }
  return { text, json, namespaces };
}

function composePolicies(packs: LoadedPack[]): Map<string, PackPolicy> {
  const policies = new Map<string, PackPolicy>();
  for (const pack of packs) {
    for (const p of pack.policies) {
      const where = { file: p.file, line: p.line };
      const other = policies.get(p.id);
      const otherLayer = other && packs.find((b) => b.meta.name === other.pack)?.meta.layer;
      // Reuse of a base id gets its own message: it is an attempt to override base, not a typo.
      if (other && otherLayer === 'base' && pack.meta.layer !== 'base') {
        throw new FindingError(
          `pack ${pack.meta.name} reuses base policy id '${p.id}' (defined by pack ${other.pack} at ${other.file}:${other.line}); base can only be extended, never overridden`,
          where,
        );
      }
      if (!p.id.startsWith(`${pack.meta.name}.`)) {
        throw new FindingError(`policy id '${p.id}' must start with '${pack.meta.name}.' (pack ${pack.meta.name})`, where);
      }
      if (other)
        throw new FindingError(
          `duplicate policy id '${p.id}' in pack ${pack.meta.name}: also in pack ${other.pack} at ${other.file}:${other.line}`,
          where,
        );
      policies.set(p.id, p);
    }
  }
  return policies;
}

function validateStrict(policies: Map<string, PackPolicy>, schemaText: string, packs: LoadedPack[], validator: PolicyValidator): void {
  const out = validator.check(schemaText, [...policies.values()]);
  if (out.type === 'failure')
    throw new InputError(`cannot validate ${packs.map((p) => p.key).join(', ')}: ${cedarErrorText(out.errors).join('; ')}`);
  if (out.errors.length === 0) return;
  const lines = out.errors.map(({ policy: p, error }) => policyDiagnostic(p.id, p, error));
  throw new FindingError(`strict validation failed: ${lines[0]}`, undefined, lines.slice(1));
}

function tierOf(memberOf: string[]): string[] {
  return memberOf.filter((m) => m.startsWith(TIER_PREFIX)).map((m) => m.slice(TIER_PREFIX.length, -1));
}

/** The tool catalog of the domain packs, checked against the composed schema. */
function toolCatalog(packs: LoadedPack[], json: cedar.SchemaJson<string>, namespaces: Map<string, string>): Map<string, ManifestTool> {
  const catalog = new Map<string, ManifestTool>();
  for (const pack of packs) {
    if (!pack.tools) continue;
    const owned = [...namespaces].filter(([, owner]) => owner === pack.meta.name).map(([ns]) => ns);
    if (owned.length !== 1)
      throw new FindingError(`pack ${pack.meta.name} must own exactly one namespace for its tools, owns ${owned.length}`, {
        file: pack.tools.file,
      });
    pack.tools.tools.forEach((tool, i) => {
      const where = { file: pack.tools!.file, field: `tools[${i}]` };
      const uid: EntityUid = { type: `${owned[0]}::Action`, id: tool.name };
      const action = `${uid.type}::${JSON.stringify(tool.name)}`;
      const info = actionInfo(json, uid);
      if (!info)
        throw new FindingError(`tool ${tool.name}: action ${action} is not declared in the schema of pack ${pack.meta.name}`, where);
      const tiers = tierOf(info.memberOf);
      if (tiers.length !== 1 || tiers[0] !== tool.tier) {
        throw new FindingError(
          `tool ${tool.name} has tier ${tool.tier} but its action is a member of ${tiers.length ? tiers.map((t) => TIER_GROUP(t)).join(', ') : 'no tier group'} (must be exactly ${TIER_GROUP(tool.tier)})`,
          where,
        );
      }
      const resourceType = 'tenant' in tool.resource ? TENANT_TYPE : tool.resource.type;
      if (!info.resourceTypes.includes(resourceType)) {
        throw new FindingError(
          `tool ${tool.name}: resource type ${resourceType} is not among the action's resource types (${info.resourceTypes.join(', ') || 'none'})`,
          where,
        );
      }
      const other = catalog.get(tool.name);
      if (other) throw new FindingError(`tool ${tool.name} is declared twice in the catalog (also as ${other.action})`, where);
      catalog.set(tool.name, {
        name: tool.name,
        tier: tool.tier,
        action,
        resource: tool.resource,
        description: tool.description,
        args: tool.args,
      });
    });
  }
  return catalog;
}

/** Base's stand-in tools: every Fixture action that belongs to a tier group. */
function fixtureTools(json: cedar.SchemaJson<string>): ManifestTool[] {
  const out: ManifestTool[] = [];
  for (const uid of actions(json)) {
    if (uid.type !== 'Fixture::Action') continue;
    const info = actionInfo(json, uid)!;
    const tier = RiskTier.safeParse(tierOf(info.memberOf)[0]);
    if (!tier.success) continue;
    const type = info.resourceTypes.find((t) => t !== TENANT_TYPE);
    out.push({
      name: uid.id,
      tier: tier.data,
      action: `Fixture::Action::${JSON.stringify(uid.id)}`,
      resource: type ? { type, idArg: 'resourceId' } : { tenant: true },
      description: 'base test stand-in tool',
      args: {},
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every tool name has one owner across a packs folder: the domain pack whose tools.yaml declares
 * it (any version of that pack). A second domain pack declaring the same name could give it
 * another tier and action, so it is refused wherever the two packs sit.
 */
export function checkToolOwners(packs: LoadedPack[]): void {
  const owners = new Map<string, { pack: string; file: string }>();
  for (const pack of packs) {
    for (const [i, tool] of (pack.tools?.tools ?? []).entries()) {
      const owner = owners.get(tool.name);
      if (owner && owner.pack !== pack.meta.name)
        throw new FindingError(
          `tool ${tool.name} is declared by domain packs ${owner.pack} (${owner.file}) and ${pack.meta.name}: every tool has one owner`,
          { file: pack.tools!.file, field: `tools[${i}]` },
        );
      owners.set(tool.name, { pack: pack.meta.name, file: pack.tools!.file });
    }
  }
}

const TIER_RANK: Record<RiskTier, number> = { read: 0, 'write-low': 1, 'write-high': 2, critical: 3 };

function packYamlOf(pack: LoadedPack): string {
  return pack.files.find((f) => f.path.endsWith('/pack.yaml') || f.path === 'pack.yaml')?.path ?? `${pack.key} pack.yaml`;
}

/**
 * The agent's tools, each the catalog entry of the domain pack that owns it. The agent may
 * raise a tool's tier (the gateway then asks for the approvals of the higher tier), never lower it.
 */
function agentTools(intent: LoadedPack, catalog: Map<string, ManifestTool>, packs: LoadedPack[]): ManifestTool[] {
  return intent.meta.agent!.tools.map((t, i) => {
    const where = { file: packYamlOf(intent), field: `agent.tools[${i}]` };
    const entry = catalog.get(t.name);
    if (!entry) throw new FindingError(`intent pack ${intent.meta.name}: tool ${t.name} is not in the tool catalog`, where);
    if (TIER_RANK[t.tier] < TIER_RANK[entry.tier]) {
      const owner = packs.find((p) => p.tools?.tools.some((d) => d.name === t.name));
      throw new FindingError(
        `intent pack ${intent.meta.name}: tool ${t.name} declared with tier ${t.tier}, below tier ${entry.tier} set by its owner, pack ${owner?.meta.name ?? '?'} (a lower layer may raise a tier, never lower it)`,
        where,
      );
    }
    return { ...entry, tier: t.tier };
  });
}

type ScopeEntity = { type: string; id: string };
type PermitScope = { op: string; entity?: ScopeEntity; entities?: ScopeEntity[] };
const scopeText = (e: ScopeEntity) => `${e.type}::${JSON.stringify(e.id)}`;

/** What is wrong with one intent permit's scope, if anything: the guide's rule, enforced. */
function permitProblem(agent: string, tools: ManifestTool[], principal: PermitScope, action: PermitScope): string | undefined {
  const self = `${AGENT_TYPE}::${JSON.stringify(agent)}`;
  if (principal.op !== '==' || !principal.entity || scopeText(principal.entity) !== self)
    return `must name its own agent (principal == ${self})`;
  if (action.op !== '==' || !action.entity)
    return action.op === 'in'
      ? `grants by action group ${[action.entity, ...(action.entities ?? [])].flatMap((e) => (e ? [scopeText(e)] : [])).join(', ')}: name one declared tool (action == ...)`
      : 'grants every action: name one declared tool (action == ...)';
  const target = scopeText(action.entity);
  if (!tools.some((t) => t.action === target)) return `grants ${target}, which is not among the tools pack.yaml declares for ${agent}`;
  return undefined;
}

const ENTITY = String.raw`([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)::"([^"\\]*)"`;
// principal == E | principal; action == E | action in E | action; then `, resource`: nothing else.
const PLAIN_SCOPE = new RegExp(
  String.raw`permit\s*\(\s*principal(?:\s*==\s*${ENTITY})?\s*,\s*action(?:\s*(==|\bin\b)\s*${ENTITY})?\s*,\s*resource\b`,
  'y',
);

/**
 * A parsed permit's principal and action scope read plainly when it is written in the plain form
 * (`principal == E` or `principal`, `action == E`, `action in E` or `action`, entities without
 * escapes, no comments inside); undefined otherwise. Asking Cedar for the JSON costs about 1 ms a
 * policy, the largest part of compiling thousands of permits.
 */
export function plainPermitScope(text: string): { principal: PermitScope; action: PermitScope } | undefined {
  PLAIN_SCOPE.lastIndex = leadingTokensEnd(text);
  const m = PLAIN_SCOPE.exec(text);
  if (!m) return undefined;
  const [, pType, pId, op, aType, aId] = m;
  return {
    principal: pType === undefined ? { op: 'All' } : { op: '==', entity: { type: pType, id: pId! } },
    action: op === undefined ? { op: 'All' } : { op: op === 'in' ? 'in' : '==', entity: { type: aType!, id: aId! } },
  };
}

/** A permit's scope: the plain reading, else Cedar's own parse of the policy (comments and layout cannot hide one). */
function permitScope(p: PackPolicy): { principal: PermitScope; action: PermitScope } {
  const plain = plainPermitScope(p.text);
  if (plain) return plain;
  const json = cedar.policyToJson(p.text);
  if (json.type === 'failure')
    throw new InputError(`malformed Cedar: ${cedarErrorText(json.errors).join('; ')}`, { file: p.file, line: p.line });
  return json.json as unknown as { principal: PermitScope; action: PermitScope };
}

/**
 * Why a domain permit is not an approver permit, if it is not: it must name one action of the
 * approval group that no tool uses (`action == Ns::Action::"approve"`) or the group itself.
 * Such a permit can only let an approver's approval count, never let an agent call a tool.
 */
function approverPermitProblem(action: PermitScope, json: cedar.SchemaJson<string>): string | undefined {
  if (action.op === 'in' && action.entity && !action.entities && scopeText(action.entity) === APPROVAL_GROUP) return undefined;
  if (action.op === '==' && action.entity) {
    const groups = actionInfo(json, action.entity) ? actionGroups(json, action.entity) : [];
    if (groups.includes(APPROVAL_GROUP) && tierOf(groups).length === 0) return undefined;
    return `grants ${scopeText(action.entity)}, which is not an approval action (a member of ${APPROVAL_GROUP} in no tier group)`;
  }
  const named = [action.entity, ...(action.entities ?? [])].flatMap((e) => (e ? [scopeText(e)] : []));
  return named.length === 0 ? 'grants every action' : `grants by ${action.op} ${named.join(', ')}`;
}

/**
 * No tool's action is in the approval group: a domain's approver permits would grant it to
 * agents. Checked before strict validation, whose complaint (an agent has no `tenants`) would
 * hide why.
 */
function checkApprovalActionsAreNotTools(packs: LoadedPack[], json: cedar.SchemaJson<string>, namespaces: Map<string, string>): void {
  for (const pack of packs) {
    const ns = [...namespaces].find(([, owner]) => owner === pack.meta.name)?.[0];
    pack.tools?.tools.forEach((tool, i) => {
      const uid = { type: `${ns}::Action`, id: tool.name };
      if (ns !== undefined && actionInfo(json, uid) && actionGroups(json, uid).includes(APPROVAL_GROUP))
        throw new FindingError(
          `tool ${tool.name}: its action ${scopeText(uid)} is in ${APPROVAL_GROUP}; an approval action is never a tool`,
          {
            file: pack.tools!.file,
            field: `tools[${i}]`,
          },
        );
    });
  }
}

/**
 * Base and domain packs forbid; agents are permitted only by intent packs (one place per agent
 * says what it may do). The one exception: a domain pack permits approvers on its approval
 * action (who may approve a call of its tools). Base never permits.
 */
function checkPermitsAbove(packs: LoadedPack[], json: cedar.SchemaJson<string>): void {
  for (const pack of packs) {
    if (pack.meta.layer === 'intent') continue;
    for (const p of pack.policies) {
      if (effectOf(p.text) !== 'permit') continue;
      const where = { file: p.file, line: p.line };
      if (pack.meta.layer === 'base')
        throw new FindingError(`permit ${p.id} in base pack ${pack.meta.name}: base only forbids (intent packs permit agents)`, where);
      const problem = approverPermitProblem(permitScope(p).action, json);
      if (problem)
        throw new FindingError(
          `permit ${p.id} in domain pack ${pack.meta.name} ${problem}: a domain pack permits only approvers, on its approval action; only intent packs permit agents`,
          where,
        );
    }
  }
}

/**
 * An intent pack's permits and its pack.yaml tools must agree: every permit names the agent and
 * exactly one declared tool, and every declared tool has a permit.
 */
function checkIntentPermits(intent: LoadedPack, tools: ManifestTool[]): void {
  const agent = intent.meta.agent!.name;
  const granted = new Set<string>();
  for (const p of intent.policies) {
    if (effectOf(p.text) !== 'permit') continue;
    const est = permitScope(p);
    const problem = permitProblem(agent, tools, est.principal, est.action);
    if (problem) throw new FindingError(`permit ${p.id} of intent pack ${intent.meta.name} ${problem}`, { file: p.file, line: p.line });
    granted.add(scopeText(est.action.entity!));
  }
  const missing = tools.filter((t) => !granted.has(t.action));
  if (missing.length > 0)
    throw new FindingError(
      `intent pack ${intent.meta.name} declares ${missing.map((t) => t.name).join(', ')} in pack.yaml but no permit grants ${missing.length > 1 ? 'them' : 'it'}`,
      { file: packYamlOf(intent), field: 'agent.tools' },
    );
}

/** Composes a resolved pack set (layer order), enforcing the composition rules of docs/architecture.md. */
export function composeSet(packs: LoadedPack[], opts: { withFixtureSchema?: boolean; validator?: PolicyValidator } = {}): ComposedSet {
  const base = packs.find((p) => p.meta.layer === 'base');
  const intent = packs.find((p) => p.meta.layer === 'intent');
  const root = intent ?? packs[packs.length - 1]!;
  const extra = opts.withFixtureSchema && base?.fixtureSchema ? { pack: base, source: base.fixtureSchema } : undefined;
  const schema = composeSchemaCached(packs, extra);
  const policies = composePolicies(packs);
  checkPermitsAbove(packs, schema.json);
  checkApprovalActionsAreNotTools(packs, schema.json, schema.namespaces);
  validateStrict(policies, schema.text, packs, opts.validator ?? new PolicyValidator());
  const catalog = toolCatalog(packs, schema.json, schema.namespaces);
  let tools: ManifestTool[];
  if (intent?.meta.agent) {
    tools = agentTools(intent, catalog, packs);
    checkIntentPermits(intent, tools);
  } else if (catalog.size > 0) tools = [...catalog.values()];
  else tools = extra ? fixtureTools(schema.json) : [];
  return {
    name: intent?.meta.agent?.name ?? root.key,
    packs,
    ...(intent?.meta.agent ? { agent: intent.meta.agent } : {}),
    policies,
    schemaText: schema.text,
    schemaJson: schema.json,
    namespaces: schema.namespaces,
    tools: tools.sort((a, b) => a.name.localeCompare(b.name)),
    entityTypes: entityTypes(schema.json),
  };
}
