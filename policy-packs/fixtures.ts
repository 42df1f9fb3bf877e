import { InputError } from '../common/index.js';
import { parseUid, uidText, type CedarEntity, type EntityUid } from './cedar.js';
import type { EntityResolver } from './engine.js';
import { TENANT_TYPE } from './engine.js';
import type { FixturesFile } from './pack-file.js';

type FixtureEntity = FixturesFile['entities'][number];

/** In fixtures, a string written as an entity uid (`Type::"id"`) is an entity reference. */
function toCedarValue(value: unknown): unknown {
  if (typeof value === 'string') {
    const uid = parseUid(value);
    return uid ? { __entity: uid } : value;
  }
  if (Array.isArray(value)) return value.map(toCedarValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCedarValue(v)]));
  return value;
}

function toEntity(e: FixtureEntity): CedarEntity {
  return {
    uid: parseUid(e.uid)!,
    attrs: toCedarValue(e.attrs) as Record<string, unknown>,
    parents: e.parents.map((p) => parseUid(p)!),
  };
}

/** The entities and tenant limits of a test run: fixtures of every pack in the set plus the test's own. */
export class FixtureStore implements EntityResolver {
  private ownedIndex: Map<string, EntityUid> | undefined;

  private constructor(
    private readonly entities: Map<string, CedarEntity>,
    readonly limits: Map<string, Record<string, unknown>>,
  ) {}

  static fromFiles(files: Array<{ file: string; data: FixturesFile }>): FixtureStore {
    const entities = new Map<string, CedarEntity>();
    const limits = new Map<string, Record<string, unknown>>();
    for (const { file, data } of files) {
      for (const e of data.entities) {
        const entity = toEntity(e);
        if (entities.has(uidText(entity.uid))) throw new InputError(`fixture entity ${e.uid} is defined twice`, { file });
        entities.set(uidText(entity.uid), entity);
      }
      for (const [tenant, t] of Object.entries(data.tenants)) limits.set(tenant, { ...limits.get(tenant), ...t.limits });
    }
    return new FixtureStore(entities, limits);
  }

  /** A store with a test's own entities added (they shadow fixtures of the same uid). */
  with(extra: FixtureEntity[]): FixtureStore {
    if (extra.length === 0) return this;
    const entities = new Map(this.entities);
    for (const e of extra.map(toEntity)) entities.set(uidText(e.uid), e);
    return new FixtureStore(entities, this.limits);
  }

  has(uid: EntityUid): boolean {
    return this.entities.has(uidText(uid));
  }

  resolve(uid: EntityUid): CedarEntity[] | undefined {
    const first = this.entities.get(uidText(uid));
    if (!first) return undefined;
    const out = [first];
    const seen = new Set([uidText(uid)]);
    for (let i = 0; i < out.length; i++) {
      for (const p of out[i]!.parents) {
        const key = uidText(p);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(this.entities.get(key) ?? { uid: p, attrs: {}, parents: [] });
      }
    }
    return out;
  }

  /**
   * A fixture entity of `type` owned by `tenant` alone (first by uid, so runs are deterministic).
   * An entity that also reaches another tenant (a poisoned cross-tenant link) is not "of" either
   * tenant: picking it would make a cross-tenant test pass on a domain guard, not on isolation.
   */
  ownedBy(type: string, tenant: string): EntityUid | undefined {
    if (type === TENANT_TYPE) return { type, id: tenant };
    return this.owned().get(`${type} ${tenant}`);
  }

  /** "type tenant" -> the first entity (by uid) of that type whose only tenant is that one. */
  private owned(): Map<string, EntityUid> {
    if (!this.ownedIndex) {
      this.ownedIndex = new Map();
      for (const key of [...this.entities.keys()].sort()) {
        const e = this.entities.get(key)!;
        const tenants = this.resolve(e.uid)!.filter((a) => a.uid.type === TENANT_TYPE);
        const slot = `${e.uid.type} ${tenants[0]?.uid.id}`;
        if (tenants.length === 1 && !this.ownedIndex.has(slot)) this.ownedIndex.set(slot, e.uid);
      }
    }
    return this.ownedIndex;
  }
}
