import { z } from 'zod';
import { InputError, readYaml } from '../common/index.js';
import { parseUid, uidText, type CedarEntity, type EntityResolver, type EntityUid } from '../policy-packs/index.js';

const UidText = z.string().refine((s) => parseUid(s) !== undefined, 'expected an entity uid like Type::"id"');

/** The gateway's entity data: the same shape as a pack's tests/fixtures.yaml. */
const EntityFile = z.strictObject({
  entities: z
    .array(z.strictObject({ uid: UidText, parents: z.array(UidText).default([]), attrs: z.record(z.string(), z.unknown()).default({}) }))
    .default([]),
  tenants: z.record(z.string(), z.strictObject({ limits: z.record(z.string(), z.unknown()) })).default({}),
});

/**
 * Entities and tenant limits the gateway decides over. Each entity's slice (itself plus every
 * ancestor) is computed once at load, so a decision pays a map lookup, not a graph walk; the
 * slice stays the smallest set Cedar needs for `resource in Tenant` checks.
 */
export class EntityDirectory implements EntityResolver {
  private readonly slices = new Map<string, CedarEntity[]>();

  constructor(
    entities: CedarEntity[],
    private readonly tenantLimits: Record<string, Record<string, unknown>>,
  ) {
    const byUid = new Map(entities.map((e) => [uidText(e.uid), e]));
    for (const [key, entity] of byUid) {
      const slice: CedarEntity[] = [];
      const seen = new Set<string>();
      const visit = (e: CedarEntity) => {
        const k = uidText(e.uid);
        if (seen.has(k)) return;
        seen.add(k);
        slice.push(e);
        for (const p of e.parents) {
          const parent = byUid.get(uidText(p));
          if (parent) visit(parent);
        }
      };
      visit(entity);
      this.slices.set(key, slice);
    }
  }

  static load(file: string): EntityDirectory {
    const data = readYaml(file, EntityFile);
    const entities = data.entities.map((e) => ({ uid: parseUid(e.uid)!, parents: e.parents.map((p) => parseUid(p)!), attrs: e.attrs }));
    const limits: Record<string, Record<string, unknown>> = {};
    for (const [tenant, cfg] of Object.entries(data.tenants)) limits[tenant] = cfg.limits;
    if (entities.length === 0) throw new InputError('no entities: the gateway could resolve no resource', { file, field: 'entities' });
    return new EntityDirectory(entities, limits);
  }

  resolve(uid: EntityUid): CedarEntity[] | undefined {
    return this.slices.get(uidText(uid));
  }

  /** A tenant's limits; a tenant without configuration has none (policies then deny guarded writes). */
  limits(tenant: string): Record<string, unknown> {
    return this.tenantLimits[tenant] ?? {};
  }
}
