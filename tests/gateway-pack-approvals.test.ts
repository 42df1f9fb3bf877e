import { afterAll, beforeAll, expect, test } from 'vitest';
import { contentPath } from '../common/index.js';
import { DEFAULT_GATEWAY_ENTITIES } from '../evals/index.js';
import { openGatewayHarness, type GatewayHarness } from './gateway-harness.js';

// Approvals the packs demand beyond the tier's minimum: issue_purchase_order is write-low,
// but the procurement pack wants one approver above the tenant's spend threshold.
let h: GatewayHarness;
beforeAll(async () => {
  h = await openGatewayHarness({
    packsDir: contentPath('policy-packs', 'packs'),
    agent: 'award-communications',
    entitiesFile: DEFAULT_GATEWAY_ENTITIES(),
  });
});
afterAll(async () => h?.close());

const agent = 'award-communications';
const over = { bidId: 'acme-bid-lev', amountCents: 2_500_001 };

test('at the threshold the purchase order is a guarded allow with no approval request', async () => {
  const d = await h.path.decide({
    identity: h.identity('acme', agent),
    tool: 'issue_purchase_order',
    args: { bidId: 'acme-bid-lev', amountCents: 2_500_000 },
  });
  expect(d.outcome).toBe('guarded');
  expect(d.approvalRequest).toBeUndefined();
});

test('above the threshold it waits for one approver, then passes once with the approval', async () => {
  const pending = await h.path.decide({ identity: h.identity('acme', agent), tool: 'issue_purchase_order', args: over });
  expect(pending.outcome).toBe('approval-pending');
  expect(pending.blocked).toBe(true);
  expect(pending.approvalRequest?.required).toBe(1);
  const request = h.approvals.get(pending.approvalRequest!.id);
  expect(request.tier).toBe('write-low');

  await h.approvals.approve(request.id, h.approver('alice'));
  const approved = await h.path.decide({ identity: h.identity('acme', agent), tool: 'issue_purchase_order', args: over });
  expect(approved.outcome).toBe('guarded');
  expect(approved.blocked).toBe(false);
  expect(approved.record.approvals.map((a) => a.approver)).toEqual(['alice']);

  // The token is single-use: the same call again is pending once more, not allowed.
  const again = await h.path.decide({ identity: h.identity('acme', agent), tool: 'issue_purchase_order', args: over });
  expect(again.blocked).toBe(true);
});

test('an approval does not help a call the packs forbid for another reason (over the awarded bid)', async () => {
  const d = await h.path.decide({
    identity: h.identity('acme', agent),
    tool: 'issue_purchase_order',
    args: { bidId: 'acme-bid-lev', amountCents: 18_000_001 },
  });
  expect(d.outcome).toBe('denied');
  expect(d.approvalRequest).toBeUndefined();
  expect(d.record.determiningPolicies).toContain('procurement.purchase-order-not-above-bid');
});
