import { afterAll, beforeAll, expect, test } from 'vitest';
import { contentPath } from '../common/index.js';
import { DEFAULT_GATEWAY_ENTITIES } from '../evals/index.js';
import { openGatewayHarness, type GatewayHarness } from './gateway-harness.js';

// The gateway over a shipped agent (spot-bidding, node 4a) compiled from policy-packs/packs,
// deciding over the fixtures the pack tests see (base: tenants and agents with their kill
// switches; procurement: resources and tenant limits).
let h: GatewayHarness;
beforeAll(async () => {
  h = await openGatewayHarness({
    packsDir: contentPath('policy-packs', 'packs'),
    agent: 'spot-bidding',
    entitiesFile: DEFAULT_GATEWAY_ENTITIES(),
  });
});
afterAll(async () => h?.close());

test('lists exactly the tools of the shipped spot-bidding manifest', () => {
  expect(
    h.path
      .toolsFor('spot-bidding')
      .map((t) => t.name)
      .sort(),
  ).toEqual(['flag_requires_attention', 'get_bids', 'get_negotiation', 'list_eligible_suppliers', 'solicit_spot_bids']);
});

test('a read of its own tenant is allowed; the same read of another tenant is denied by base tenant isolation', async () => {
  const own = await h.path.decide({
    identity: h.identity('acme'),
    tool: 'list_eligible_suppliers',
    args: { negotiationId: 'acme-neg-spot' },
  });
  expect(own.outcome).toBe('allowed');
  expect(own.args.tenant_id).toBe('acme');
  const cross = await h.path.decide({
    identity: h.identity('acme'),
    tool: 'list_eligible_suppliers',
    args: { negotiationId: 'globex-neg-1' },
  });
  expect(cross.blocked).toBe(true);
  expect(cross.record.determiningPolicies).toContain('base.tenant-isolation');
});

test('a spot solicitation within the cap is a guarded allow; one over the cap is denied; a tool of another agent is unknown', async () => {
  const call = { negotiationId: 'acme-neg-spot', supplierIds: ['acme-sup-approved'], deadlineHours: 12 };
  const ok = await h.path.decide({ identity: h.identity('acme'), tool: 'solicit_spot_bids', args: { ...call, amountCents: 400_000 } });
  expect(ok.outcome).toBe('guarded');
  const over = await h.path.decide({ identity: h.identity('acme'), tool: 'solicit_spot_bids', args: { ...call, amountCents: 500_001 } });
  expect(over.outcome).toBe('denied');
  const other = await h.path.decide({ identity: h.identity('acme'), tool: 'commit_long_term_agreement', args: { bidId: 'acme-bid-spot' } });
  expect(other.record.reasons[0]).toMatch(/unknown tool/);
});

test("a suspended tenant's read is denied by the base kill switch", async () => {
  const d = await h.path.decide({ identity: h.identity('umbrella'), tool: 'get_negotiation', args: { negotiationId: 'umbrella-neg-1' } });
  expect(d.blocked).toBe(true);
  expect(d.record.determiningPolicies).toContain('base.suspended-tenant');
});
