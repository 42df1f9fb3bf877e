import { z } from 'zod';
import { InputError, readYaml } from '../common/index.js';
import { FixtureStore, parseUid, type CedarEntity, type EntityUid } from '../policy-packs/index.js';
import type { DecisionData } from './decide.js';

const UidText = z.string().refine((s) => parseUid(s) !== undefined, 'expected an entity uid like Type::"id"');

/** The gateway's entity data file: the shape of a pack's tests/fixtures.yaml. */
const EntityFile = z.strictObject({
  entities: z
    .array(z.strictObject({ uid: UidText, parents: z.array(UidText).default([]), attrs: z.record(z.string(), z.unknown()).default({}) }))
    .default([]),
  tenants: z.record(z.string(), z.strictObject({ limits: z.record(z.string(), z.unknown()).default({}) })).default({}),
});

/**
 * Entities and tenant limits the gateway decides over, held in policy-packs' FixtureStore (the
 * same resolver pack tests use: an entity plus its ancestors, the smallest slice Cedar needs).
 */
export class EntityDirectory implements DecisionData {
  private constructor(private readonly store: FixtureStore) {}

  /** One file, or several merged (an entity defined in two of them is an error naming the file). */
  static load(files: string | readonly string[]): EntityDirectory {
    const loaded = (typeof files === 'string' ? [files] : files).map((file) => ({ file, data: readYaml(file, EntityFile) }));
    if (loaded.every((f) => f.data.entities.length === 0)) {
      throw new InputError('no entities: the gateway could resolve no resource', {
        file: loaded.map((f) => f.file).join(', '),
        field: 'entities',
      });
    }
    return new EntityDirectory(FixtureStore.fromFiles(loaded));
  }

  resolve(uid: EntityUid): CedarEntity[] | undefined {
    return this.store.resolve(uid);
  }

  /** A tenant's limits; a tenant without configuration has none (its guarded writes then fail closed). */
  limits(tenant: string): Record<string, unknown> {
    return this.store.limits.get(tenant) ?? {};
  }
}
