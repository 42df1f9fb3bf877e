import type { cedar } from './cedar.js';
import { parseUid, uidText, type EntityUid } from './cedar.js';

type SchemaJson = cedar.SchemaJson<string>;
type CedarType = cedar.Type<string> | cedar.TypeOfAttribute<string>;

/** What the input projection keeps: declared record attributes, recursively. */
export type InputShape = { kind: 'record'; attrs: Map<string, InputShape> } | { kind: 'value' };

export interface ActionInfo {
  uid: EntityUid;
  /** Action groups this action is a member of, as uid text. */
  memberOf: string[];
  resourceTypes: string[];
  principalTypes: string[];
  input: InputShape;
}

const PRIMITIVES = new Set([
  'String',
  'Long',
  'Boolean',
  'Set',
  'Record',
  'Entity',
  'Extension',
  '__cedar::String',
  '__cedar::Long',
  '__cedar::Bool',
]);

function splitName(name: string): [string, string] {
  const i = name.lastIndexOf('::');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 2)];
}

/** Follows common-type references (`{type: "Ns::Name"}`) to the type they stand for. */
export function resolveCommon(schema: SchemaJson, type: CedarType, namespace: string, depth = 0): CedarType {
  const ref = (type as { type?: string }).type;
  if (depth > 32 || ref === undefined || PRIMITIVES.has(ref)) return type;
  const [ns, name] = splitName(ref);
  const target = ref.includes('::')
    ? schema[ns]?.commonTypes?.[name]
    : (schema[namespace]?.commonTypes?.[name] ?? schema['']?.commonTypes?.[name]);
  return target ? resolveCommon(schema, target, ref.includes('::') ? ns : namespace, depth + 1) : type;
}

function shapeOf(schema: SchemaJson, type: CedarType | undefined, namespace: string): InputShape {
  if (!type) return { kind: 'value' };
  const t = resolveCommon(schema, type, namespace) as { type?: string; attributes?: Record<string, CedarType> };
  if (t.type !== 'Record' || !t.attributes) return { kind: 'value' };
  const attrs = new Map<string, InputShape>();
  for (const [k, v] of Object.entries(t.attributes)) attrs.set(k, shapeOf(schema, v, namespace));
  return { kind: 'record', attrs };
}

/** Looks up an action in a (resolved-types) schema JSON; undefined when the schema does not declare it. */
export function actionInfo(schema: SchemaJson, uid: EntityUid): ActionInfo | undefined {
  const ns = uid.type.endsWith('::Action') ? uid.type.slice(0, -'::Action'.length) : uid.type === 'Action' ? '' : undefined;
  if (ns === undefined) return undefined;
  const action = schema[ns]?.actions?.[uid.id];
  if (!action) return undefined;
  const context = action.appliesTo?.context ? resolveCommon(schema, action.appliesTo.context, ns) : undefined;
  const inputType = (context as { attributes?: Record<string, CedarType> } | undefined)?.attributes?.['input'];
  return {
    uid,
    memberOf: (action.memberOf ?? []).map((m) => uidText({ type: m.type ?? (ns ? `${ns}::Action` : 'Action'), id: m.id })),
    resourceTypes: action.appliesTo?.resourceTypes ?? [],
    principalTypes: action.appliesTo?.principalTypes ?? [],
    input: shapeOf(schema, inputType, ns),
  };
}

/** The action groups an action belongs to, directly or through other groups, as uid text, sorted. */
export function actionGroups(schema: SchemaJson, uid: EntityUid): string[] {
  const out = new Set<string>();
  const pending = [...(actionInfo(schema, uid)?.memberOf ?? [])];
  for (let group = pending.pop(); group !== undefined; group = pending.pop()) {
    if (out.has(group)) continue;
    out.add(group);
    const parsed = parseUid(group);
    pending.push(...((parsed && actionInfo(schema, parsed)?.memberOf) ?? []));
  }
  return [...out].sort();
}

/** Keeps only the attributes the shape declares; undeclared keys are dropped, not rejected. */
export function projectInput(value: unknown, shape: InputShape): unknown {
  if (shape.kind !== 'record' || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const attr = shape.attrs.get(k);
    if (attr) out[k] = projectInput(v, attr);
  }
  return out;
}

/** Every entity type name the schema declares, fully qualified. */
export function entityTypes(schema: SchemaJson): Set<string> {
  const out = new Set<string>();
  for (const [ns, def] of Object.entries(schema))
    for (const name of Object.keys(def.entityTypes ?? {})) out.add(ns ? `${ns}::${name}` : name);
  return out;
}

/** Every action the schema declares, as entity uids. */
export function actions(schema: SchemaJson): EntityUid[] {
  const out: EntityUid[] = [];
  for (const [ns, def] of Object.entries(schema))
    for (const id of Object.keys(def.actions ?? {})) out.push({ type: ns ? `${ns}::Action` : 'Action', id });
  return out;
}

/**
 * Whether `value`, as Cedar JSON, is surely of `type` and reads the same with and without the
 * schema: Long (a safe integer), String, Bool, Set, closed Record (required attributes present,
 * no undeclared ones) and Entity in its explicit `{__entity: {type, id}}` form of the declared
 * type. Anything else (extension types, implicit entity forms, open records) is "not sure":
 * false, and the caller asks Cedar with the schema instead.
 */
export function surelyConforms(schema: SchemaJson, type: CedarType, value: unknown, namespace: string, depth = 0): boolean {
  if (depth > 32) return false;
  const t = resolveCommon(schema, type, namespace) as {
    type?: string;
    name?: string;
    element?: CedarType;
    attributes?: Record<string, CedarType & { required?: boolean }>;
    additionalAttributes?: boolean;
  };
  switch (t.type) {
    case 'Long':
    case '__cedar::Long':
      return Number.isSafeInteger(value);
    case 'String':
    case '__cedar::String':
      return typeof value === 'string';
    case 'Bool':
    case 'Boolean':
    case '__cedar::Bool':
      return typeof value === 'boolean';
    case 'Set':
      return (
        Array.isArray(value) && t.element !== undefined && value.every((v) => surelyConforms(schema, t.element!, v, namespace, depth + 1))
      );
    case 'Entity':
      return isEntityRef(value) && t.name === value.__entity.type;
    case 'Record': {
      if (t.additionalAttributes || !t.attributes || typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      const attrs = t.attributes;
      const given = value as Record<string, unknown>;
      for (const k of Object.keys(given)) if (!Object.hasOwn(attrs, k)) return false;
      for (const [k, a] of Object.entries(attrs)) {
        if (!Object.hasOwn(given, k)) {
          if (a.required !== false) return false;
        } else if (!surelyConforms(schema, a, given[k], namespace, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function isEntityRef(value: unknown): value is { __entity: { type: string; id: string } } {
  if (typeof value !== 'object' || value === null || Object.keys(value).length !== 1) return false;
  const ref = (value as { __entity?: unknown }).__entity;
  return (
    typeof ref === 'object' &&
    ref !== null &&
    Object.keys(ref).length === 2 &&
    typeof (ref as EntityUid).type === 'string' &&
    typeof (ref as EntityUid).id === 'string'
  );
}
