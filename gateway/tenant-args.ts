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
