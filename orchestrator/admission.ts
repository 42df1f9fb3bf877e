/** A tenant's admission slots (tenants.yaml `admission`). */
export interface SlotPolicy {
  reservedSlots: number;
  maxSlots: number;
}

export type Admission = { admitted: true } | { admitted: false; reason: string };

/** What admission reads before deciding: the slots in use, counted by the store that keeps them. */
export interface SlotUse {
  /** ACTIVE negotiations of the tenant asking. */
  mine: number;
  /** Every tenant's reserved slots (the asking tenant's reservation included). */
  reservedTotal: number;
  /** Slots taken beyond reservations, over all tenants: sum of max(0, active - reserved). */
  sharedInUse: number;
}

/**
 * The admission rule (node 1), one for every store: a tenant below its reserved slots is always
 * admitted; above them it competes for the shared pool (capacity minus every tenant's
 * reservation); at its max it is refused. Each store makes the decision and the DRAFT -> ACTIVE
 * write one atomic step over the counts it read (SQLite: one immediate transaction; DynamoDB: a
 * write conditional on the slot record being unchanged since it was read).
 */
export function admissionDecision(tenantId: string, use: SlotUse, policy: SlotPolicy, capacity: number): Admission {
  if (use.mine >= policy.maxSlots)
    return { admitted: false, reason: `tenant ${tenantId} has ${use.mine} active negotiation(s), its maximum is ${policy.maxSlots}` };
  if (use.mine >= policy.reservedSlots) {
    const pool = Math.max(0, capacity - use.reservedTotal);
    if (use.sharedInUse >= pool)
      return { admitted: false, reason: `shared capacity exhausted (${use.sharedInUse}/${pool} shared slots in use)` };
  }
  return { admitted: true };
}
