import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SupplierClient } from '../agents/index.js';
import { openAuditLog, queryAudit } from '../audit/index.js';
import { countDecision, METRIC, metricsEnabled, startMetrics } from '../common/index.js';
import { AdmissionDenied, openProcurementStack, ORCHESTRATOR_PRINCIPAL, referenceWorld, sampleRequisition } from '../orchestrator/index.js';
import { otlpHome } from './otlp-home.js';
import type { ReceivedPoint } from './servers/otlp.js';

const t = otlpHome('charter-metrics-');
const { dir } = t;

/** The sum of a metric's newest points whose attributes include `match`. */
function total(name: string, match: Record<string, string> = {}): number {
  return t.receiver
    .latest(name)
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + p.value, 0);
}

describe('OpenTelemetry metrics', () => {
  it('are off by default: no meter provider, recording does nothing, nothing is sent', async () => {
    const off = await startMetrics({ url: undefined });
    expect(metricsEnabled()).toBe(false);
    countDecision({ tenantId: 'acme', agentId: 'a', tier: 'read', outcome: 'allowed' });
    await off.shutdown();
    expect(t.receiver.points).toHaveLength(0);
  });

  it('export what happened: decisions by outcome and tier as in the audit trail, a refused admission, the approval queue, an open breaker, the seal lag of every record', async () => {
    const metrics = await startMetrics({ url: t.receiver.metricsUrl, serviceName: 'charter-test', intervalMs: 600_000 });
    expect(metricsEnabled()).toBe(true);
    // globex's award needs an approver (above its spend threshold); two of acme's at once fill its slots.
    const world = referenceWorld({
      tenants: ['acme', 'globex'],
      spendThresholdCents: { globex: 10_000 },
      admission: { reservedSlots: 1, maxSlots: 2, retryAfterSeconds: 7 },
    });
    const suppliers = await world.network.serve();
    const auditDir = join(dir, 'audit');
    const audit = await openAuditLog({ dir: auditDir, signer: t.home.auditSigner, origin: 'test/metrics' });
    const stack = await openProcurementStack({
      ...t.home.stackOptions(join(dir, 'run'), world, suppliers.url, audit),
      supplierClient: { timeoutMs: 60_000, failureThreshold: 1_000, openMs: 1_000 },
    });
    // A supplier whose server is gone: its breaker (threshold 1) opens on the first call.
    const down = new SupplierClient('http://127.0.0.1:9/mcp', { timeoutMs: 5_000, failureThreshold: 1, openMs: 600_000 });
    const t0 = Date.now();
    let refused: unknown;
    try {
      const [acme, globex] = await Promise.all([
        stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0)),
        stack.orchestrator.negotiate('globex', sampleRequisition('globex', 0)),
      ]);
      expect(acme.status, acme.reason ?? '').toBe('AWARDED');
      expect(globex.status, globex.reason ?? '').toBe('AWAITING_APPROVAL');
      // Gateway traffic the manifests refuse: tools spot-bidding may not call.
      for (const tool of ['issue_purchase_order', 'no_such_tool', 'issue_purchase_order'])
        expect(
          (
            await stack.path.decide({
              identity: { principal: ORCHESTRATOR_PRINCIPAL, tenantId: 'acme', agentId: 'spot-bidding' },
              tool,
              args: {},
            })
          ).outcome,
        ).toBe('denied');
      await stack.orchestrator.submit('acme', sampleRequisition('acme', 1));
      await stack.orchestrator.submit('acme', sampleRequisition('acme', 2));
      try {
        await stack.orchestrator.submit('acme', sampleRequisition('acme', 3));
      } catch (err) {
        refused = err;
      }
      await expect(
        down.quote('acme', {
          supplierId: 'sup-down',
          negotiationId: 'acme-n001',
          idempotencyKey: 'k',
          round: 1,
          lines: sampleRequisition('acme', 1).lines,
        }),
      ).rejects.toThrow();
      await audit.flush();
    } finally {
      // The last collection reads the approval queue and the breakers: before the stack closes.
      await metrics.shutdown();
      await down.close();
      await stack.close();
      await suppliers.close();
    }
    const elapsedS = (Date.now() - t0) / 1000;
    expect(refused).toBeInstanceOf(AdmissionDenied);
    expect(metricsEnabled()).toBe(false);

    const records = await queryAudit({ dir: auditDir });
    await audit.close();
    const decisions = records.filter((r) => r.kind === 'decision');
    expect(t.receiver.points.every((p) => p.service === 'charter-test')).toBe(true);

    // Decisions: per tenant and tier, the counter is what the audit trail holds, allows and denies apart.
    const DENY = ['denied', 'approval-pending'];
    const points = t.receiver.latest(METRIC.decisions);
    expect(points.length).toBeGreaterThan(0);
    const counted = (tenant: string, tier: string, deny: boolean) =>
      points
        .filter((p: ReceivedPoint) => p.attributes['tenant.id'] === tenant && p.attributes['charter.tool.tier'] === tier)
        .filter((p) => DENY.includes(String(p.attributes['charter.decision.outcome'])) === deny)
        .reduce((n, p) => n + p.value, 0);
    for (const tenant of ['acme', 'globex'])
      for (const tier of new Set(decisions.map((d) => d.tier ?? '')))
        for (const deny of [false, true])
          expect(counted(tenant, tier, deny), `${tenant} ${tier} ${deny ? 'deny' : 'allow'}`).toBe(
            decisions.filter((d) => d.tenantId === tenant && (d.tier ?? '') === tier && (d.decision === 'deny') === deny).length,
          );
    expect(total(METRIC.decisions)).toBe(decisions.length);
    expect(total(METRIC.decisions, { 'tenant.id': 'acme', 'charter.decision.outcome': 'denied' })).toBe(3);
    expect(
      total(METRIC.decisions, { 'tenant.id': 'acme', 'charter.decision.outcome': 'guarded', 'charter.tool.tier': 'write-low' }),
    ).toBeGreaterThan(0);

    // One admission refused, acme's.
    expect(t.receiver.latest(METRIC.admissionRefusals).map((p) => [p.attributes['tenant.id'], p.value])).toEqual([['acme', 1]]);

    // globex's award waits for its approver: one pending, as old as the wait at most.
    const pending = t.receiver.latest(METRIC.approvalsPending);
    expect(pending.map((p) => [p.attributes['tenant.id'], p.value])).toEqual([['globex', 1]]);
    const [oldest] = t.receiver.latest(METRIC.approvalOldestAge);
    expect(oldest).toMatchObject({ unit: 's', attributes: { 'tenant.id': 'globex' } });
    expect(oldest!.value).toBeGreaterThan(0);
    expect(oldest!.value).toBeLessThan(elapsedS + 1);

    // The down supplier's breaker is open (2); the negotiations' supplier keys are closed (0).
    const breakers = t.receiver.latest(METRIC.breakerState);
    expect(breakers.find((p) => p.attributes['charter.breaker.key'] === 'acme|sup-down')).toMatchObject({
      value: 2,
      attributes: { 'charter.breaker.name': 'suppliers' },
    });
    const others = breakers.filter((p) => p.attributes['charter.breaker.key'] !== 'acme|sup-down');
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((p) => p.value === 0)).toBe(true);

    // Every record of the log was sealed once metrics were on: one seal-lag sample each, none negative.
    const [lag] = t.receiver.latest(METRIC.sealLag);
    expect(lag).toMatchObject({ type: 'histogram', unit: 's', count: records.length });
    expect(lag!.value).toBeGreaterThanOrEqual(0);
    expect(lag!.value / lag!.count).toBeLessThan(elapsedS);
  }, 240_000);
});
