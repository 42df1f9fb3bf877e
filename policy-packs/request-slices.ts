import { FindingError } from '../common/index.js';
import { cedar, cedarErrorText, parseUid, uidText, type EntityUid } from './cedar.js';
import { actionGroups, actionInfo, surelyConforms } from './schema-info.js';

type SchemaJson = cedar.SchemaJson<string>;

/** What one action's requests on one resource type are cut down to, worked out once when the engine is built. */
interface ActionSlice {
  /** Pre-parsed policy set of only the policies whose action scope can match this action and whose resource scope can match the type. */
  policySetId: string;
  /** Context attributes those policies read; undefined when one reads `context` as a whole. */
  contextAttrs: string[] | undefined;
  /**
   * Every name those policies' conditions could read an entity attribute by (each identifier and
   * string literal); undefined when one has a literal this reading cannot decode (then no attribute is dropped).
   */
  attrNames: Set<string> | undefined;
  /**
   * The action and every group it is in, as entities (without the schema Cedar knows no action
   * hierarchy); none when no policy of the slice could read the hierarchy (see needsActionHierarchy).
   */
  actionEntities: cedar.EntityJson[];
  principalTypes: Set<string>;
  context: cedar.Type<string> | undefined;
  namespace: string;
}

/** What a policy's JSON says about the request: the action scope, and which context attributes it reads. */
interface PolicyReads {
  scope: { op: string; entity?: EntityUid; entities?: EntityUid[] };
  /** The entity type of a `resource is T` (or `resource is T in ...`) scope; undefined for any other resource scope. */
  resourceIs: string | undefined;
  /** undefined: `context` is used as a whole (or in a way this reading does not follow). */
  contextAttrs: Set<string> | undefined;
  /** An action entity named outside the scope (`action in X` in a condition): its hierarchy is needed whole. */
  namesActionInConditions: boolean;
  /**
   * Every identifier and string literal of the conditions: Cedar reads an entity attribute only
   * by a name written in the policy (`e.name`, `e["name"]`, `e has name`, `e has "name"`), so an
   * attribute named nowhere here is never read. undefined: a literal this reading cannot decode.
   */
  names: Set<string> | undefined;
}

/**
 * The fast form of a gateway request. Cedar spends most of a call parsing its input against the
 * schema and evaluating every policy of the set; for one action most policies cannot apply (their
 * action or resource scope excludes it) and most of the context is never read. So, per action and
 * resource type, once:
 * - a pre-parsed set of only the policies whose scope can match the action and the resource type
 *   (`resource is` another type excludes a policy; a policy whose scope does not match is neither
 *   satisfied nor evaluated, so it can be neither determining nor erroring);
 * - the context attributes those policies read (the others are dropped);
 * - the names those policies could read an entity attribute by: an entity's other attributes are
 *   dropped (after the entity was checked whole against its type, see below), since Cedar parses
 *   every attribute it is sent and reads only those a policy names;
 * - the action's group hierarchy as entities, which the schema would have supplied, when a policy
 *   of the slice could read it (an `in` scope, or `action` named in a condition).
 * A request is then sent without the schema, which is sound only for input that reads the same
 * with and without it and that the schema would accept. Per call, the context must surely
 * conform to the action's context type (`surelyConforms`), principal and resource types must be
 * the action's, and each entity of the slice must surely conform to its declared type (attributes
 * to its shape, parents of its member-of types) and use no form the schema reads differently
 * (Cedar's own `checkParseEntities` would parse the schema on every call). Anything
 * else gets no fast form, and the caller asks Cedar with the full request and the schema. The
 * engine re-checks a sample of fast answers against the full request (see PolicyEngine).
 */
export class RequestSlices {
  private readonly slices = new Map<string, ActionSlice>();
  private constructor(private readonly schema: SchemaJson) {}

  /**
   * The slices of every action, or undefined when this policy set cannot have them (a condition
   * names an action entity, or the schema has extension types, whose JSON reads differ).
   */
  static build(id: string, policies: Record<string, string>, schema: SchemaJson, actions: EntityUid[]): RequestSlices | undefined {
    if (JSON.stringify(schema).includes('"Extension"')) return undefined;
    const reads = new Map<string, PolicyReads>();
    for (const [pid, text] of Object.entries(policies)) {
      const r = policyReads(text);
      if (!r || r.namesActionInConditions) return undefined;
      reads.set(pid, r);
    }
    const out = new RequestSlices(schema);
    for (const action of actions) {
      const info = actionInfo(schema, action);
      if (!info) return undefined;
      for (const resourceType of info.resourceTypes) out.addSlice(id, policies, reads, action, info.principalTypes, resourceType);
    }
    return out;
  }

  /**
   * The slice of one action on one resource type: a policy whose action scope cannot match the
   * action, or whose scope says `resource is` another type, is left out (Cedar evaluates a
   * policy's scope first: one that does not match is neither satisfied nor evaluated further).
   */
  private addSlice(
    id: string,
    policies: Record<string, string>,
    reads: Map<string, PolicyReads>,
    action: EntityUid,
    principalTypes: string[],
    resourceType: string,
  ): void {
    const schema = this.schema;
    const ns = action.type.slice(0, -'::Action'.length);
    const lineage = new Set([uidText(action), ...actionGroups(schema, action)]);
    const kept: Record<string, string> = {};
    let contextAttrs: Set<string> | undefined = new Set();
    let attrNames: Set<string> | undefined = new Set();
    let hierarchyRead = false;
    for (const [pid, r] of reads) {
      if (!scopeCanMatch(r.scope, lineage) || (r.resourceIs !== undefined && r.resourceIs !== resourceType)) continue;
      kept[pid] = policies[pid]!;
      hierarchyRead ||= needsActionHierarchy(r);
      if (!r.contextAttrs) contextAttrs = undefined;
      else r.contextAttrs.forEach((a) => contextAttrs?.add(a));
      if (!r.names) attrNames = undefined;
      else r.names.forEach((n) => attrNames?.add(n));
    }
    const policySetId = `${id}#${uidText(action)}#${resourceType}`;
    const pset = cedar.preparsePolicySet(policySetId, { staticPolicies: kept });
    if (pset.type === 'failure')
      throw new FindingError(`policy slice ${policySetId} does not parse: ${cedarErrorText(pset.errors).join('; ')}`);
    const appliesTo = schema[ns]?.actions?.[action.id]?.appliesTo;
    this.slices.set(sliceKey(action, resourceType), {
      policySetId,
      contextAttrs: contextAttrs && [...contextAttrs],
      attrNames,
      actionEntities: hierarchyRead ? [...lineage].map((u) => actionEntity(schema, parseUid(u)!)) : [],
      principalTypes: new Set(principalTypes),
      context: appliesTo?.context,
      namespace: ns,
    });
  }

  /** The fast form of a full (schema-validated) request, or undefined when it has none. */
  fastForm(request: cedar.StatefulAuthorizationCall): cedar.StatefulAuthorizationCall | undefined {
    const { principal, action, resource } = request as { principal: EntityUid; action: EntityUid; resource: EntityUid };
    const slice = this.slices.get(sliceKey(action, resource.type));
    if (!slice?.context || !slice.principalTypes.has(principal.type)) return undefined;
    const context = request.context as Record<string, unknown>;
    if (!surelyConforms(this.schema, slice.context, context, slice.namespace)) return undefined;
    const entities = request.entities as cedar.EntityJson[];
    if (!entities.every((e) => this.entityReadsTheSame(e))) return undefined;
    return {
      principal,
      action,
      resource,
      context: (slice.contextAttrs
        ? Object.fromEntries(slice.contextAttrs.filter((a) => Object.hasOwn(context, a)).map((a) => [a, context[a]]))
        : context) as cedar.Context,
      preparsedPolicySetId: slice.policySetId,
      validateRequest: false,
      entities: [...(slice.attrNames ? entities.map((e) => readAttrs(e, slice.attrNames!)) : entities), ...slice.actionEntities],
    };
  }

  /**
   * Whether an entity surely passes the schema and reads the same without it: a declared entity
   * type without tags or an enumeration, attributes that surely conform to its shape, parents of
   * its member-of types, and no implicit entity or extension form.
   */
  private entityReadsTheSame(e: cedar.EntityJson): boolean {
    const uid = e.uid as EntityUid;
    if (typeof uid.type !== 'string' || uid.type === 'Action' || uid.type.endsWith('::Action')) return false;
    const i = uid.type.lastIndexOf('::');
    const ns = i < 0 ? '' : uid.type.slice(0, i);
    const def = this.schema[ns]?.entityTypes?.[uid.type.slice(i < 0 ? 0 : i + 2)] as
      { memberOfTypes?: string[]; shape?: cedar.Type<string>; tags?: unknown; enum?: unknown } | undefined;
    if (!def || def.tags !== undefined || def.enum !== undefined || hasImplicitForm(e.attrs)) return false;
    const shape = def.shape ?? ({ type: 'Record', attributes: {} } as cedar.Type<string>);
    if (!surelyConforms(this.schema, shape, e.attrs, ns)) return false;
    const parentTypes = new Set(def.memberOfTypes ?? []);
    return (e.parents as EntityUid[]).every((p) => parentTypes.has(p.type));
  }
}

/** The entity with only the attributes whose names a policy of the slice could read (the same object when that is all of them). */
function readAttrs(e: cedar.EntityJson, names: Set<string>): cedar.EntityJson {
  const attrs = e.attrs;
  const keys = Object.keys(attrs);
  if (keys.every((k) => names.has(k))) return e;
  const kept: Record<string, cedar.CedarValueJson> = {};
  for (const k of keys) if (names.has(k)) kept[k] = attrs[k]!;
  return { uid: e.uid, attrs: kept, parents: e.parents };
}

/**
 * Whether a policy could read the action hierarchy, so the request must carry the action and its
 * groups as entities: an `in` scope (or one this reading does not know), or a condition that
 * names `action` at all (or a literal this reading cannot decode). A scope of `action` or
 * `action == A` compares uids only, and Cedar parses every entity it is sent (about 20 us each
 * in wasm), so a slice whose policies are all such sends none.
 */
function needsActionHierarchy(r: PolicyReads): boolean {
  return (r.scope.op !== 'All' && r.scope.op !== '==') || r.names === undefined || r.names.has('action');
}

function sliceKey(action: EntityUid, resourceType: string): string {
  return `${uidText(action)} ${resourceType}`;
}

/** The type of a resource scope `resource is T` or `resource is T in ...`; undefined for any other scope. */
function resourceIsType(t: Token[]): string | undefined {
  if (t[0]?.text !== 'resource' || t[1]?.text !== 'is') return undefined;
  const path: string[] = [];
  let i = 2;
  for (; t[i]?.kind === 'ident'; i += 2) {
    path.push(t[i]!.text);
    if (t[i + 1]?.text !== '::') {
      i++;
      break;
    }
  }
  return path.length > 0 && (i === t.length || t[i]?.text === 'in') ? path.join('::') : undefined;
}

/** Whether a policy's action scope can match an action whose lineage (itself and its groups) is given. */
function scopeCanMatch(scope: PolicyReads['scope'], lineage: Set<string>): boolean {
  if (scope.op === 'All') return true;
  if (scope.op === '==') return scope.entity !== undefined && lineage.has(uidText(scope.entity));
  if (scope.op === 'in') {
    if (scope.entity) return lineage.has(uidText(scope.entity));
    if (scope.entities) return scope.entities.some((e) => lineage.has(uidText(e)));
  }
  return true; // a scope this reading does not know: kept
}

function actionEntity(schema: SchemaJson, uid: EntityUid): cedar.EntityJson {
  const ns = uid.type.slice(0, -'::Action'.length);
  const memberOf = schema[ns]?.actions?.[uid.id]?.memberOf ?? [];
  return { uid, attrs: {}, parents: memberOf.map((m) => ({ type: m.type ?? uid.type, id: m.id })) };
}

/** A JSON object the schema could read as an entity or extension value while schema-less Cedar reads a record. */
function hasImplicitForm(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasImplicitForm);
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === '__entity' || keys[0] === '__extn')) return keys[0] === '__extn';
  if (keys.includes('type') || keys.includes('fn') || keys.includes('__entity') || keys.includes('__extn')) return true;
  return Object.values(value).some(hasImplicitForm);
}

type Token = { kind: 'string' | 'ident' | 'punct'; text: string };

/** Cedar's tokens of a policy text (comments and whitespace dropped); undefined on an unterminated string. */
function tokenize(src: string): Token[] | undefined {
  const out: Token[] = [];
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (src.startsWith('//', i)) while (i < src.length && src[i] !== '\n') i++;
    else if (c === '"') {
      let j = i + 1;
      for (; j < src.length && src[j] !== '"'; j++) if (src[j] === '\\') j++;
      if (j >= src.length) return undefined;
      out.push({ kind: 'string', text: src.slice(i, j + 1) });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ kind: 'ident', text: src.slice(i, j) });
      i = j;
    } else {
      const two = src.slice(i, i + 2);
      const punct = ['::', '==', '!=', '<=', '>=', '&&', '||'].includes(two) ? two : c;
      out.push({ kind: 'punct', text: punct });
      i += punct.length;
    }
  }
  return out;
}

/** A string literal's value; undefined for escapes JSON does not share (the caller then keeps what it would drop). */
function stringValue(token: Token | undefined): string | undefined {
  if (token?.kind !== 'string') return undefined;
  try {
    return JSON.parse(token.text) as string;
  } catch {
    return undefined;
  }
}

/** An entity uid `A::B::"id"` at tokens[i], with the index after it. */
function uidAt(t: Token[], i: number): { uid: EntityUid; next: number } | undefined {
  const path: string[] = [];
  while (t[i]?.kind === 'ident' && t[i + 1]?.text === '::') {
    path.push(t[i]!.text);
    i += 2;
  }
  const id = stringValue(t[i]);
  return path.length > 0 && id !== undefined ? { uid: { type: path.join('::'), id }, next: i + 1 } : undefined;
}

/** The action scope from its tokens (`action`, `action == U`, `action in U`, `action in [U, ...]`); op "unknown" otherwise. */
function actionScope(t: Token[]): PolicyReads['scope'] {
  const unknown = { op: 'unknown' };
  if (t[0]?.text !== 'action') return unknown;
  if (t.length === 1) return { op: 'All' };
  const op = t[1]!.text;
  if (op === '==' || (op === 'in' && t[2]?.text !== '[')) {
    const u = uidAt(t, 2);
    return u && u.next === t.length ? { op, entity: u.uid } : unknown;
  }
  if (op !== 'in') return unknown;
  const entities: EntityUid[] = [];
  let i = 3;
  while (t[i]?.text !== ']') {
    const u = uidAt(t, i);
    if (!u) return unknown;
    entities.push(u.uid);
    i = t[u.next]?.text === ',' ? u.next + 1 : u.next;
    if (t[i] === undefined) return unknown;
  }
  return i === t.length - 1 ? { op, entities } : unknown;
}

/**
 * What a policy reads, from its text: the action scope, the context attributes its conditions
 * name, whether a condition names an action. Cedar's own JSON form would say the same but costs
 * milliseconds a policy (too slow at thousands); the reading is conservative where it is not
 * sure (an unknown scope is kept, an unknown use of `context` keeps the whole context), and
 * request-slices.test.ts checks it against Cedar's JSON over every shipped policy.
 */
export function policyReads(text: string): PolicyReads | undefined {
  const t = tokenize(text);
  if (!t) return undefined;
  let i = 0;
  // Annotations: @name or @name("value").
  while (t[i]?.text === '@') {
    if (t[i + 2]?.text !== '(') i += 2;
    else if (t[i + 3]?.kind === 'string' && t[i + 4]?.text === ')') i += 5;
    else return undefined;
  }
  if (t[i]?.text !== 'permit' && t[i]?.text !== 'forbid') return undefined;
  if (t[i + 1]?.text !== '(') return undefined;
  const parts: Token[][] = [[]];
  let depth = 0;
  for (i += 2; i < t.length; i++) {
    const x = t[i]!.text;
    if (depth === 0 && x === ')') break;
    if (depth === 0 && x === ',') parts.push([]);
    else parts[parts.length - 1]!.push(t[i]!);
    if (x === '(' || x === '[') depth++;
    if (x === ')' || x === ']') depth--;
  }
  if (parts.length !== 3 || i >= t.length) return undefined;
  const reads: PolicyReads = {
    scope: actionScope(parts[1]!),
    resourceIs: resourceIsType(parts[2]!),
    contextAttrs: new Set(),
    namesActionInConditions: false,
    names: new Set(),
  };
  const body = t.slice(i + 1);
  body.forEach((tok, k) => {
    if (tok.kind === 'string') {
      const value = stringValue(tok);
      if (value === undefined) reads.names = undefined;
      else reads.names?.add(value);
    }
    if (tok.kind !== 'ident') return;
    reads.names?.add(tok.text);
    if (tok.text === 'Action' && body[k + 1]?.text === '::') reads.namesActionInConditions = true;
    if (tok.text !== 'context' || body[k - 1]?.text === '.' || body[k - 1]?.text === 'has') return;
    const next = body[k + 1];
    const attr =
      next?.text === '.' && body[k + 2]?.kind === 'ident'
        ? body[k + 2]!.text
        : next?.text === 'has'
          ? body[k + 2]?.kind === 'ident'
            ? body[k + 2]!.text
            : stringValue(body[k + 2])
          : next?.text === '[' && body[k + 3]?.text === ']'
            ? stringValue(body[k + 2])
            : undefined;
    if (attr === undefined) reads.contextAttrs = undefined;
    else reads.contextAttrs?.add(attr);
  });
  return reads;
}
