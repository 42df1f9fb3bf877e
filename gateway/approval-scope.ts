import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, readYaml, yamlLineOf } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import {
  APPROVER_TYPE,
  TENANT_TYPE,
  uidText,
  type CedarEntity,
  type EntityResolver,
  type EntityUid,
  type PolicyEngine,
  type ToolCall,
} from '../policy-packs/index.js';

/** The home's declaration of who approves: `<home>/approvers.yaml`. */
export const APPROVERS_FILE = 'approvers.yaml';

const TenantId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a tenant id as tenants.yaml names it (lower-case letters, digits, -)');

/**
 * approvers.yaml: each approver by the name its `approval` key has in the trusted-keys file, with
 * the tenants they approve for, the largest amount (cents) they may approve and their roles.
 * What each attribute permits is the packs' decision (the domain's `approve` permits, base's
 * tenant scope), not this file's.
 */
export const ApproversFile = z.strictObject({
  approvers: z
    .record(
      z.string().min(1),
      z.strictObject({
        tenants: z.array(TenantId).min(1, 'an approver serves at least one tenant'),
        spendLimitCents: z.number().int().nonnegative(),
        roles: z.array(z.string().min(1)).default([]),
      }),
    )
    .default({}),
});
export type ApproversFile = z.infer<typeof ApproversFile>;

/**
 * The approvers decisions run over, as `Charter::Approver` entities (attributes `tenants`, a set
 * of Tenant references, `spendLimitCents` and `roles`). An approver who is not declared resolves
 * to nothing, and the engine refuses their approval (fail closed).
 */
export class ApproverDirectory implements EntityResolver {
  private constructor(
    private readonly entities: ReadonlyMap<string, CedarEntity>,
    /** Where the approvers were declared (for reasons), or why there are none. */
    readonly source: string,
  ) {}

  /** Nobody may approve. */
  static none(why: string): ApproverDirectory {
    return new ApproverDirectory(new Map(), why);
  }

  /**
   * Reads an approvers file. With `trusted`, every approver must be the name of a key trusted
   * for `approval` (a typo would otherwise leave an approver without scope, silently): the error
   * names the file, the line and the field.
   */
  static load(file: string, trusted?: TrustedKeysFile): ApproverDirectory {
    const doc = readYaml(file, ApproversFile);
    const keyNames = new Set(trusted?.keys.filter((k) => k.purposes.includes('approval')).map((k) => k.name));
    const entities = new Map<string, CedarEntity>();
    for (const [name, a] of Object.entries(doc.approvers)) {
      if (trusted && !keyNames.has(name)) {
        const line = yamlLineOf(file, ['approvers', name]);
        throw new InputError(
          `approver '${name}' has no key trusted for approval (approval keys: ${[...keyNames].sort().join(', ') || 'none'}); generate one with charter keys generate --name ${name} --purpose approval`,
          { file, ...(line ? { line } : {}), field: `approvers.${name}` },
        );
      }
      const uid: EntityUid = { type: APPROVER_TYPE, id: name };
      const tenants = [...new Set(a.tenants)].map((id) => ({ __entity: { type: TENANT_TYPE, id } }));
      entities.set(uidText(uid), { uid, attrs: { tenants, spendLimitCents: a.spendLimitCents, roles: a.roles }, parents: [] });
    }
    return new ApproverDirectory(entities, file);
  }

  /** `<home>/approvers.yaml`, or nobody when the home has none. */
  static inHome(home: string, trusted?: TrustedKeysFile): ApproverDirectory {
    const file = join(home, APPROVERS_FILE);
    return existsSync(file) ? ApproverDirectory.load(file, trusted) : ApproverDirectory.none(`no ${file}`);
  }

  resolve(uid: EntityUid): CedarEntity[] | undefined {
    const e = uid.type === APPROVER_TYPE ? this.entities.get(uidText(uid)) : undefined;
    return e ? [e] : undefined;
  }

  names(): string[] {
    return [...this.entities.values()].map((e) => e.uid.id).sort();
  }
}

/**
 * Why `approver` may not approve `call`, or undefined when the packs permit it: Cedar decides
 * the domain's `approve` action over the approver's entity (from `approvers`, never from the
 * call's entity data) and the call's tenant. A deny, an error, an undeclared approver or a
 * domain without an approval action all refuse (fail closed). The CLI asks before signing; the
 * gateway asks again for every token it counts.
 */
export function approvalRefusal(
  engine: PolicyEngine,
  call: Omit<ToolCall, 'approvalBy' | 'approvers'>,
  approver: string,
  data: EntityResolver,
  approvers: ApproverDirectory,
): string | undefined {
  const resolver: EntityResolver = {
    resolve: (uid) => (uid.type === APPROVER_TYPE ? approvers.resolve(uid) : data.resolve(uid)),
  };
  const d = engine.authorizeCall({ ...call, approvers: [], approvalBy: approver }, resolver);
  if (d.decision === 'allow') return undefined;
  const undeclared = approvers.resolve({ type: APPROVER_TYPE, id: approver }) ? '' : ` (${approvers.source})`;
  return `approver '${approver}' may not approve ${call.tool} for tenant ${call.tenant}: ${[...d.reasons, ...d.errors].join('; ')}${undeclared}`;
}
