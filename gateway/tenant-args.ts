import { TENANT_TYPE, uidText, type EntityResolver } from '../policy-packs/index.js';

/**
 * `tenant_id` in tool arguments is never trusted (seed 000, isolation layer 3): the gateway
 * compares every `tenant_id` the caller sent, at any depth, with the validated claim, refuses
 * a mismatch, and writes the claim's value into the top-level `tenant_id` when the tool's
 * contract takes one (so a tool cannot run without carrying tenant identity).
 */
export type TenantBinding = { ok: true; args: Record<string, unknown> } | { ok: false; reason: string };

export function bindTenant(args: Record<string, unknown>, tenantId: string, contractTakesTenant: boolean): TenantBinding {
  const forged = findForeignTenant(args, tenantId, 'args');
  if (forged) return { ok: false, reason: `tenant mismatch: ${forged.path} is '${forged.value}', the caller's tenant is '${tenantId}'` };
  if (!contractTakesTenant) return { ok: true, args };
  return { ok: true, args: { ...args, tenant_id: tenantId } };
}

function findForeignTenant(value: unknown, tenantId: string, path: string): { path: string; value: string } | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findForeignTenant(value[i], tenantId, `${path}[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    if (key === 'tenant_id' && child !== tenantId) return { path: childPath, value: String(child) };
    const hit = findForeignTenant(child, tenantId, childPath);
    if (hit) return hit;
  }
  return undefined;
}

/** A top-level argument the tool's contract declares as naming entities (`x-entity: Type`): a string id or an array of them. */
export interface EntityArg {
  arg: string;
  type: string;
}

/** The arguments of a contract (JSON Schema) that carry `x-entity`. */
export function entityArgs(schema: unknown): EntityArg[] {
  const props = (schema as { properties?: Record<string, { 'x-entity'?: unknown }> } | null)?.properties ?? {};
  return Object.entries(props).flatMap(([arg, p]) => (typeof p?.['x-entity'] === 'string' ? [{ arg, type: p['x-entity'] }] : []));
}

/**
 * The tenant boundary covers every resource an argument names, not only the call's main
 * resource (Cedar's `base.tenant-isolation`): each id of an `x-entity` argument must resolve,
 * and the caller's tenant must be among its ancestors. An unknown id is refused too, since
 * nothing shows it is the caller's. Runs after the contract check, so the values have their
 * declared shape.
 */
export function checkNamedEntities(
  args: Record<string, unknown>,
  refs: readonly EntityArg[],
  tenantId: string,
  resolver: EntityResolver,
): { ok: true } | { ok: false; reason: string } {
  for (const { arg, type } of refs) {
    const value = args[arg];
    const ids = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const [i, id] of ids.entries()) {
      const path = Array.isArray(value) ? `args.${arg}[${i}]` : `args.${arg}`;
      const uid = { type, id: String(id) };
      const resolved = resolver.resolve(uid);
      if (!resolved) return { ok: false, reason: `unknown entity: ${path} names ${uidText(uid)}, which does not resolve` };
      const tenants = resolved.filter((e) => e.uid.type === TENANT_TYPE).map((e) => e.uid.id);
      if (!tenants.includes(tenantId))
        return {
          ok: false,
          reason: `tenant mismatch: ${path} names ${uidText(uid)} of tenant '${tenants.join("', '") || '(none)'}', the caller's tenant is '${tenantId}'`,
        };
    }
  }
  return { ok: true };
}
