import { entityRef, parseEntityRef, resolveAgentConfig, type ConfigStore } from '../agents/index.js';
import type { DecisionData } from '../gateway/index.js';
import type { OrchestratorLedger } from './ledger.js';

type Uid = { type: string; id: string };
type Entity = { uid: Uid; attrs: Record<string, unknown>; parents: Uid[] };

const TENANT = 'Charter::Tenant';
const ref = (uid: Uid) => ({ __entity: uid });
// The negotiation state knows no kill switches: its tenants and agents state "not suspended",
// and the stack lays the kill switches over them (withKillSwitches).
const ACTIVE = { suspended: false };

/**
 * The gateway's entity data, read live from the orchestrator's state: negotiations, bids and
 * suppliers exist as the DAG creates them, so a static entity file cannot hold them. Every
 * procurement entity id is tenant-qualified and its parent is that tenant, so a call naming
 * another tenant's resource resolves under the other tenant and base.tenant-isolation denies
 * it. An unknown entity resolves to nothing, which the engine denies (fail closed).
 */
export class NegotiationEntities implements DecisionData {
  constructor(
    private readonly ledger: OrchestratorLedger,
    private readonly config: ConfigStore,
  ) {}

  limits(tenant: string): Record<string, unknown> {
    return { ...resolveAgentConfig(this.config, tenant, 'orchestrator').config.limits };
  }

  resolve(uid: Uid): Entity[] | undefined {
    if (uid.type === TENANT || uid.type === 'Charter::Agent') return [{ uid, attrs: ACTIVE, parents: [] }];
    const parsed = parseEntityRef(uid.id);
    if (!parsed) return undefined;
    const tenant: Entity = { uid: { type: TENANT, id: parsed.tenantId }, attrs: ACTIVE, parents: [] };
    const own = this.entity(uid, parsed.tenantId, parsed.parts);
    return own ? [...own, tenant] : undefined;
  }

  private entity(uid: Uid, tenantId: string, parts: string[]): Entity[] | undefined {
    const tenant = { type: TENANT, id: tenantId };
    switch (uid.type) {
      case 'Procurement::Category':
        return parts.length === 1 ? [{ uid, attrs: { name: parts[0] }, parents: [tenant] }] : undefined;
      case 'Procurement::Negotiation':
        return parts.length === 1 ? this.negotiation(tenantId, parts[0]!) : undefined;
      case 'Procurement::Supplier':
        return parts.length === 1 ? this.supplier(tenantId, parts[0]!) : undefined;
      case 'Procurement::Bid': {
        const bid = this.ledger.bid(tenantId, uid.id);
        if (!bid) return undefined;
        const negotiation = this.negotiation(tenantId, bid.negotiationId);
        const supplier = this.supplier(tenantId, bid.supplierId);
        if (!negotiation || !supplier) return undefined;
        const attrs = {
          negotiation: ref(negotiation[0]!.uid),
          supplier: ref(supplier[0]!.uid),
          amountCents: bid.priceCents,
          round: bid.round,
        };
        return [{ uid, attrs, parents: [negotiation[0]!.uid, supplier[0]!.uid] }, ...negotiation, ...supplier];
      }
      default:
        return undefined;
    }
  }

  private negotiation(tenantId: string, negotiationId: string): Entity[] | undefined {
    const v = this.ledger.negotiationFacts(tenantId, negotiationId);
    if (!v) return undefined;
    const attrs = { status: v.status, quadrant: v.quadrant, budgetCents: v.budgetCents, round: v.round, deliveryRegion: v.deliveryRegion };
    return [
      {
        uid: { type: 'Procurement::Negotiation', id: entityRef(tenantId, negotiationId) },
        attrs,
        parents: [{ type: TENANT, id: tenantId }],
      },
    ];
  }

  private supplier(tenantId: string, supplierId: string): Entity[] | undefined {
    const s = this.ledger.supplier(tenantId, supplierId);
    if (!s) return undefined;
    const attrs = { name: s.name, approved: true, blocked: s.blocked, deliveryRegions: s.regions };
    return [
      { uid: { type: 'Procurement::Supplier', id: entityRef(tenantId, supplierId) }, attrs, parents: [{ type: TENANT, id: tenantId }] },
    ];
  }
}
