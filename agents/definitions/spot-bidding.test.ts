import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../agent.js';
import { SAFE_DEFAULTS } from '../config.js';
import { procurementTools } from '../tools/procurement-tools.js';
import { spotBidding } from './spot-bidding.js';

// Seed 000: a spot round goes to "up to 200" suppliers, and solicit_spot_bids refuses more.
// With a larger eligible pool the agent used to send all of them, so its one call was refused
// and the node failed (found by the held-out spot-bidding set, row sbh-011).
describe('spot-bidding agent', () => {
  it('solicits at most 200 of a larger eligible pool, in a call the tool accepts', async () => {
    const solicit = procurementTools(null as never, null as never).solicit_spot_bids!;
    const pool = Array.from({ length: 250 }, (_, i) => ({
      supplierId: `acme/s${String(i).padStart(3, '0')}`,
      name: `Supplier ${i}`,
      regions: ['us-east'],
      deliveryDays: 5,
      qualityScore: 0.8,
      riskScore: 0.2,
    }));
    const sent: Array<Record<string, unknown>> = [];
    const call = async (tool: string, args: Record<string, unknown>): Promise<unknown> => {
      if (tool === 'list_eligible_suppliers') return { suppliers: pool };
      if (tool === 'get_negotiation') return { budgetCents: 90_000 };
      if (tool === 'solicit_spot_bids') {
        solicit.args.parse({ ...args, tenant_id: 'acme' } as never);
        sent.push(args);
        return { bids: [], unreachable: [] };
      }
      if (tool === 'flag_requires_attention') return {};
      throw new Error(`unexpected tool ${tool}`);
    };
    const ctx = { tenantId: 'acme', negotiationId: 'n1', config: SAFE_DEFAULTS, tools: { call } } as unknown as AgentContext;
    const result = await spotBidding.run({ negotiationId: 'n1' }, ctx);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.supplierIds).toEqual(pool.slice(0, 200).map((s) => s.supplierId));
    expect(result.output.analysis).toMatchObject({ solicited: 200, eligible: 250 });
  });
});
