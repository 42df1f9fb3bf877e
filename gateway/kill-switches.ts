import { AGENT_TYPE, TENANT_TYPE, uidText, type EntityResolver, type EntityUid } from '../policy-packs/index.js';

/**
 * Kill switches are the `suspended` attributes of the caller's Charter::Tenant and
 * Charter::Agent entities, which the base pack's policies (base.suspended-tenant,
 * base.suspended-agent) read. The schema keeps them optional so pack tests can leave them out,
 * and Cedar reads an absent one as "not suspended". The gateway does not accept that default:
 * entity data that does not state a switch may simply have lost the record, so the call is
 * refused (fail closed). A stated switch is left to the packs to enforce.
 *
 * Returns one reason a switch whose state is not a boolean; empty when both are known.
 */
export function unknownKillSwitches(data: EntityResolver, tenant: string, agent: string): string[] {
  const reasons: string[] = [];
  const check = (kind: string, uid: EntityUid) => {
    const key = uidText(uid);
    const entity = data.resolve(uid)?.find((e) => uidText(e.uid) === key);
    const state = entity?.attrs.suspended;
    if (typeof state === 'boolean') return;
    const why = entity ? `${key} has no boolean 'suspended' attribute` : `the entity data has no ${key}`;
    reasons.push(`kill switch state of ${kind} '${uid.id}' is unknown (${why}): denied (fail closed)`);
  };
  check('tenant', { type: TENANT_TYPE, id: tenant });
  check('agent', { type: AGENT_TYPE, id: agent });
  return reasons;
}
