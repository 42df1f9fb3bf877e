import { errorMessage, FindingError } from '../common/index.js';
import { digestOf } from '../signing/index.js';
import {
  cedar,
  cedarErrorText,
  parseUid,
  policyDiagnostic,
  uidText,
  type CedarEntity,
  type EntityUid,
  type PolicyOrigin,
} from './cedar.js';
import type { Manifest, ManifestTool } from './manifest-schema.js';
import type { RiskTier } from './pack-file.js';
import { actionInfo, projectInput, type InputShape } from './schema-info.js';
import { DecisionCache, sameAnswer, type CachedAnswer, type DecisionCacheOptions } from './decision-cache.js';
import { RequestSlices } from './request-slices.js';
import { TenantSlices } from './tenant-slices.js';

export const TENANT_TYPE = 'Charter::Tenant';
export const AGENT_TYPE = 'Charter::Agent';
export const APPROVER_TYPE = 'Charter::Approver';
/** The group of each domain's `approve` action (who may approve a call of its tools). */
export const APPROVAL_GROUP = 'Charter::Action::"approval"';

/** Supplies a request's entity slice: the entity and its ancestors, or undefined when unknown. */
export interface EntityResolver {
  resolve(uid: EntityUid): CedarEntity[] | undefined;
}

/** A tool call as the gateway (and every pack test) presents it for a decision. */
export interface ToolCall {
  agent: string;
  /** The validated tenant claim of the caller. */
  tenant: string;
  tool: string;
  args: Record<string, unknown>;
  /** Verified distinct approvers. */
  approvers: string[];
  /** The tenant's limits from tenant configuration. */
  limits: Record<string, unknown>;
  /** Explicit resource; otherwise from the tool's mapping (idArg) or the caller's Tenant. */
  resource?: EntityUid;
  /**
   * Set: the question is not the call itself but whether this approver (a `Charter::Approver`
   * the resolver knows) may approve it: the tool namespace's `approve` action, resource the
   * caller's Tenant, context the tool, its tier and the projected arguments.
   */
  approvalBy?: string;
}

export interface CallDecision {
  decision: 'allow' | 'deny';
  tier: RiskTier | null;
  action: string;
  resource: string;
  determiningPolicies: string[];
  reasons: string[];
  errors: string[];
}

/** What an engine decides over: the composed policies by id, the composed schema text and the tools. */
export interface PolicySetSource {
  policies: Record<string, string>;
  schemaText: string;
  tools: ManifestTool[];
  /** The schema as JSON with resolved types, when the caller already has it (saves a parse). */
  schemaJson?: cedar.SchemaJson<string>;
  /** Where each policy was written, by id: evaluation errors name it (file:line:column when the file is at hand). */
  origins?: Readonly<Record<string, PolicyOrigin>>;
}

interface RuntimeTool {
  tool: ManifestTool;
  action: EntityUid;
  input: InputShape;
  /** The namespace's `approve` action, when the schema declares it in the approval group. */
  approval?: { action: EntityUid; input: InputShape };
}

export interface EngineOptions {
  cache?: DecisionCacheOptions;
  /**
   * Ask Cedar the fast form of each request (RequestSlices): only the policies whose scope can
   * match the action, only the context they read, no per-call schema parse. Every Nth fast
   * answer (`verifyEvery`, default 1,000; 0 never) is compared with the full request's; a
   * disagreement denies that call and turns the fast form off for the engine.
   */
  slices?: { verifyEvery?: number };
}

// Names of the schemas already pre-parsed in Cedar's (process-wide) cache.
const preparsedSchemas = new Set<string>();

/**
 * The runtime decision core. The policy set and schema are pre-parsed once (Cedar's stateful
 * API, the set keyed by the manifest digest, the schema by its text's digest); a call then
 * parses only its own entity slice. Any error
 * on the way to a decision is a deny that says why (fail closed).
 */
export class PolicyEngine {
  private readonly tools = new Map<string, RuntimeTool>();
  /** Pre-parsed schemas are named by their content digest, so sets with the same schema share one. */
  private readonly schemaName: string;
  /** Where each policy was written, for the errors a decision reports. */
  private readonly origins: Readonly<Record<string, PolicyOrigin>>;

  /** Cedar answers by complete request (see DecisionCache); only engines that ask for one have it. */
  readonly cache: DecisionCache | undefined;
  /** The set split by tenant guard, when some policies are confined to one tenant (see TenantSlices). */
  private readonly tenantSlices: TenantSlices | undefined;
  /** The fast form of requests, when asked for and this set can have it. */
  private readonly slices: RequestSlices | undefined;
  private readonly slicesVerifyEvery: number;
  private fastSinceVerify = 0;
  /** Why the fast form was turned off, once it was. */
  slicesOffBecause: string | undefined;
  readonly fastStats = { fast: 0, full: 0, verified: 0 };

  constructor(
    /** Pre-parse cache key: the manifest digest (Cedar overwrites an id that is reused). */
    readonly id: string,
    source: PolicySetSource,
    opts: EngineOptions = {},
  ) {
    this.cache = opts.cache ? new DecisionCache(opts.cache) : undefined;
    this.origins = source.origins ?? {};
    this.slicesVerifyEvery = opts.slices?.verifyEvery ?? 1_000;
    // Every policy is parsed here either way: guarded ones to find their guard, the rest pre-parsed.
    this.tenantSlices = TenantSlices.build(id, source.policies);
    if (!this.tenantSlices) {
      const pset = cedar.preparsePolicySet(id, { staticPolicies: source.policies });
      if (pset.type === 'failure') throw new FindingError(`policy set ${id} does not parse: ${cedarErrorText(pset.errors).join('; ')}`);
    }
    this.schemaName = `schema:${digestOf(source.schemaText)}`;
    if (!preparsedSchemas.has(this.schemaName)) {
      const schema = cedar.preparseSchema(this.schemaName, source.schemaText);
      if (schema.type === 'failure') throw new FindingError(`schema of ${id} does not parse: ${cedarErrorText(schema.errors).join('; ')}`);
      preparsedSchemas.add(this.schemaName);
    }
    let json = source.schemaJson;
    if (!json) {
      const resolved = cedar.schemaToJsonWithResolvedTypes(source.schemaText);
      if (resolved.type === 'failure')
        throw new FindingError(`schema of ${id} does not resolve: ${cedarErrorText(resolved.errors).join('; ')}`);
      json = resolved.json;
    }
    for (const tool of source.tools) {
      const action = parseUid(tool.action);
      const info = action ? actionInfo(json, action) : undefined;
      if (!action || !info) throw new FindingError(`tool ${tool.name}: action ${tool.action} is not declared in the schema`);
      const approval = approvalActionOf(json, action);
      this.tools.set(tool.name, { tool, action, input: info.input, ...(approval ? { approval } : {}) });
    }
    this.slices = opts.slices
      ? RequestSlices.build(
          id,
          source.policies,
          json,
          [...this.tools.values()].map((t) => t.action),
        )
      : undefined;
  }

  /** The pre-parsed set a request of `tenant` is asked of: the whole set, or its tenant's slice. */
  private policySetFor(tenant: string): string {
    return this.tenantSlices ? this.tenantSlices.setFor(tenant) : this.id;
  }

  /** Whether requests are asked in their fast form (see EngineOptions.slices). */
  get fastForm(): boolean {
    return this.slices !== undefined && this.slicesOffBecause === undefined;
  }

  static fromManifest(m: Manifest, digest: string, opts: EngineOptions = {}): PolicyEngine {
    const policies: Record<string, string> = {};
    for (const [id, p] of Object.entries(m.policies)) policies[id] = p.text;
    return new PolicyEngine(digest, { policies, schemaText: m.schema.text, tools: m.tools, origins: m.policies }, opts);
  }

  toolNames(): string[] {
    return [...this.tools.keys()];
  }

  /** The resource a call addresses, or a reason why it has none. */
  resourceOf(call: ToolCall): EntityUid | string {
    if (call.resource) return call.resource;
    const rt = this.tools.get(call.tool);
    if (!rt) return `unknown tool ${call.tool}`;
    const mapping = rt.tool.resource;
    if ('tenant' in mapping) return { type: TENANT_TYPE, id: call.tenant };
    const id = call.args[mapping.idArg];
    if (typeof id !== 'string' || id === '') return `argument ${mapping.idArg} (the ${mapping.type} id) is missing or not a string`;
    return { type: mapping.type, id };
  }

  /**
   * The exact stateful Cedar call a tool call becomes (the benchmarks time the raw engine on
   * it), or why there is none: an unknown tool, a resource that cannot be named or resolved.
   */
  cedarRequest(
    call: ToolCall,
    resolver: EntityResolver,
  ): { request: cedar.StatefulAuthorizationCall; resource: string } | { refused: string; resource: string } {
    const rt = this.tools.get(call.tool);
    if (!rt) return { refused: `unknown tool ${call.tool}: not in the agent's manifest`, resource: '' };
    if (call.approvalBy !== undefined) return this.approvalRequest(call, rt, resolver);
    const resource = this.resourceOf(call);
    if (typeof resource === 'string') return { refused: resource, resource: '' };
    const resourceText = uidText(resource);
    const entities = entitySlice(call, resource, resolver);
    if (typeof entities === 'string') return { refused: entities, resource: resourceText };
    const request: cedar.StatefulAuthorizationCall = {
      principal: { type: AGENT_TYPE, id: call.agent },
      action: rt.action,
      resource,
      context: {
        tenant: { __entity: { type: TENANT_TYPE, id: call.tenant } },
        approval: { distinctApprovers: new Set(call.approvers).size },
        input: projectInput(call.args, rt.input),
        limits: call.limits,
      } as cedar.Context,
      preparsedPolicySetId: this.policySetFor(call.tenant),
      preparsedSchemaName: this.schemaName,
      validateRequest: true,
      entities,
    };
    return { request, resource: resourceText };
  }

  /**
   * Whether `call.approvalBy` may approve the call: the approver and the caller's tenant are the
   * whole entity slice. An approver the resolver does not know, or a tool whose namespace
   * declares no approval action, is refused (fail closed): nobody may approve then.
   */
  private approvalRequest(
    call: ToolCall,
    rt: RuntimeTool,
    resolver: EntityResolver,
  ): { request: cedar.StatefulAuthorizationCall; resource: string } | { refused: string; resource: string } {
    const tenant = { type: TENANT_TYPE, id: call.tenant };
    const resource = uidText(tenant);
    if (!rt.approval)
      return {
        refused: `no action ${rt.action.type}::"approve" in ${APPROVAL_GROUP}: nobody may approve ${call.tool} (fail closed)`,
        resource,
      };
    const approver = { type: APPROVER_TYPE, id: call.approvalBy! };
    const declared = resolver.resolve(approver);
    if (!declared) return { refused: `approver '${approver.id}' is not declared (no ${uidText(approver)} entity): fail closed`, resource };
    const entities = new Map<string, cedar.EntityJson>();
    for (const e of [...declared, ...(resolver.resolve(tenant) ?? [{ uid: tenant, attrs: {}, parents: [] }])])
      if (!entities.has(uidText(e.uid)))
        entities.set(uidText(e.uid), { uid: e.uid, attrs: e.attrs as Record<string, cedar.CedarValueJson>, parents: e.parents });
    const request: cedar.StatefulAuthorizationCall = {
      principal: approver,
      action: rt.approval.action,
      resource: tenant,
      context: {
        tenant: { __entity: tenant },
        tool: rt.tool.name,
        tier: rt.tool.tier,
        input: projectInput(call.args, rt.approval.input),
      } as cedar.Context,
      preparsedPolicySetId: this.policySetFor(call.tenant),
      preparsedSchemaName: this.schemaName,
      validateRequest: true,
      entities: [...entities.values()],
    };
    return { request, resource };
  }

  /**
   * Decides a tool call: the request is built, answered from the decision cache when this
   * engine has one (a sampled hit is re-asked and compared), else by Cedar. Any error on the
   * way is a deny that says why (fail closed).
   */
  authorizeCall(call: ToolCall, resolver: EntityResolver): CallDecision {
    const rt = this.tools.get(call.tool);
    const action = call.approvalBy !== undefined && rt?.approval ? uidText(rt.approval.action) : (rt?.tool.action ?? '');
    const deny = (resource: string, reasons: string[], errors: string[] = [], determining: string[] = []): CallDecision => ({
      decision: 'deny',
      tier: rt?.tool.tier ?? null,
      action,
      resource,
      determiningPolicies: determining,
      reasons,
      errors,
    });
    let resourceText = '';
    try {
      const built = this.cedarRequest(call, resolver);
      resourceText = built.resource;
      if ('refused' in built) return deny(resourceText, [built.refused]);
      const key = this.cache && DecisionCache.keyOf(built.request);
      const cached = key ? this.cache!.lookup(key) : undefined;
      if (cached?.hit && !cached.verify) return decided(rt!.tool, action, resourceText, cached.hit);
      // A sampled cache hit is checked against the full request, the authority.
      const answer = cached?.hit ? cedar.statefulIsAuthorized(built.request) : this.ask(built.request);
      if (typeof answer === 'string')
        return deny(resourceText, ['the fast form of the request disagreed with Cedar (fail closed; the fast form is now off)'], [answer]);
      if (answer.type === 'failure') {
        const errors = cedarErrorText(answer.errors);
        return deny(resourceText, ['the request could not be evaluated (fail closed)'], errors);
      }
      const { diagnostics } = answer.response;
      const fresh = answerOf(answer.response);
      if (diagnostics.errors.length > 0) {
        const errors = diagnostics.errors.map((e) => policyDiagnostic(e.policyId, this.origins[e.policyId], e.error));
        return deny(resourceText, ['a policy errored during evaluation (fail closed)'], errors, fresh.determining);
      }
      if (cached?.hit && !this.cache!.confirm(cached.hit, fresh))
        return deny(
          resourceText,
          ['the decision cache disagreed with Cedar (fail closed; the cache is now off)'],
          [this.cache!.disabledBecause!],
        );
      if (key) this.cache!.store(key, fresh);
      return decided(rt!.tool, action, resourceText, fresh);
    } catch (err) {
      return deny(resourceText, ['the decision failed (fail closed)'], [errorMessage(err)]);
    }
  }

  /**
   * Cedar's answer to a full request, asked in its fast form when it has one. A fast answer with
   * policy errors is not used (the full request gives the authoritative errors); a sampled fast
   * answer is compared with the full request's, and a disagreement (returned as text) turns
   * the fast form off.
   */
  private ask(request: cedar.StatefulAuthorizationCall): cedar.AuthorizationAnswer | string {
    const fast = this.fastForm ? this.slices!.fastForm(request) : undefined;
    if (fast) {
      const answer = cedar.statefulIsAuthorized(fast);
      if (answer.type === 'success' && answer.response.diagnostics.errors.length === 0) {
        this.fastStats.fast++;
        if (this.slicesVerifyEvery === 0 || ++this.fastSinceVerify < this.slicesVerifyEvery) return answer;
        this.fastSinceVerify = 0;
        this.fastStats.verified++;
        const full = cedar.statefulIsAuthorized(request);
        if (
          full.type === 'success' &&
          full.response.diagnostics.errors.length === 0 &&
          sameAnswer(answerOf(answer.response), answerOf(full.response))
        )
          return full;
        const fastText = JSON.stringify(answerOf(answer.response));
        const fullText = full.type === 'success' ? JSON.stringify(answerOf(full.response)) : cedarErrorText(full.errors).join('; ');
        this.slicesOffBecause = `fast form answered ${fastText}, the full request ${fullText}`;
        return this.slicesOffBecause;
      }
    }
    this.fastStats.full++;
    return cedar.statefulIsAuthorized(request);
  }
}

/** Cedar's answer, as a cache entry compares it. */
function answerOf(response: cedar.Response): CachedAnswer {
  return { decision: response.decision, determining: [...response.diagnostics.reason].sort() };
}

/** The `approve` action of an action's namespace, when the schema declares it in the approval group. */
function approvalActionOf(json: cedar.SchemaJson<string>, action: EntityUid): RuntimeTool['approval'] {
  const uid = { type: action.type, id: 'approve' };
  const info = actionInfo(json, uid);
  return info?.memberOf.includes(APPROVAL_GROUP) ? { action: uid, input: info.input } : undefined;
}

function decided(tool: ManifestTool, action: string, resource: string, answer: CachedAnswer): CallDecision {
  const determining = [...answer.determining];
  return {
    decision: answer.decision,
    tier: tool.tier,
    action,
    resource,
    determiningPolicies: determining,
    reasons: determining.length > 0 ? [`${answer.decision} by ${determining.join(', ')}`] : ['no policy permits the call (default deny)'],
    errors: [],
  };
}

/** The entities a decision needs: resource with ancestors, the caller's tenant and the agent. */
function entitySlice(call: ToolCall, resource: EntityUid, resolver: EntityResolver): cedar.EntityJson[] | string {
  const resolved = resolver.resolve(resource);
  if (!resolved) return `resource ${uidText(resource)} cannot be resolved`;
  const out = new Map<string, cedar.EntityJson>();
  const add = (e: CedarEntity) => {
    const key = uidText(e.uid);
    if (!out.has(key)) out.set(key, { uid: e.uid, attrs: e.attrs as Record<string, cedar.CedarValueJson>, parents: e.parents });
  };
  resolved.forEach(add);
  for (const uid of [
    { type: TENANT_TYPE, id: call.tenant },
    { type: AGENT_TYPE, id: call.agent },
  ]) {
    if (out.has(uidText(uid))) continue;
    (resolver.resolve(uid) ?? [{ uid, attrs: {}, parents: [] }]).forEach(add);
  }
  return [...out.values()];
}
