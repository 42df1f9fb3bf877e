import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { StaticConfigStore } from '../agents/index.js';
import { openAuditLog } from '../audit/index.js';
import { approverKey, type ApprovalStore } from '../gateway/index.js';
import {
  completeApprovalTask,
  exportAsl,
  openProcurementStack,
  referenceWorld,
  sampleRequisition,
  sfnTaskCallbacks,
  StepInvoker,
  type NegotiationState,
  type ProcurementStack,
} from '../orchestrator/index.js';
import { loadPrivateKey } from '../signing/index.js';
import { procurementHome, type ProcurementHome } from './procurement-home.js';
import { startStepFunctionsServer, type StepFunctionsServer } from './servers/stepfunctions.js';

/**
 * The demo's negotiations run twice: by the embedded engine (Orchestrator.negotiate, resume after
 * the human), and by the exported ASL on an ASL interpreter behind a local Step Functions
 * endpoint, every Task a step invoker over its own store. The outcomes must agree, including a
 * human approval, a denial and an approval that expires (umbrella's 3 s approval timeout).
 */

const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
const EXPIRY_SECONDS = 3;
const config = () =>
  StaticConfigStore.of({
    defaults: { admission: { retryAfterSeconds: 5, reservedSlots: 2, maxSlots: 10 } },
    tenants: {
      acme: { config: { limits: { spendThresholdCents: 5_000_000 } } },
      // The demo's misconfiguration: a spot ceiling above the tenant's limit, refused by the gateway.
      globex: {
        config: { limits: { spendThresholdCents: 5_000_000 } },
        agents: { 'spot-bidding': { limits: { maxSpotBidCents: 10_000_000 } } },
      },
      initech: { config: { limits: { spendThresholdCents: 10_000 } } },
      umbrella: { config: { limits: { spendThresholdCents: 10_000 }, approvalTimeoutSeconds: EXPIRY_SECONDS } },
    },
  });

/** The demo's staging and production negotiations, plus a denial and an expiry. */
const PLAN = [
  ...[0, 1, 2, 3, 4].map((i) => sampleRequisition('acme', i)),
  ...[0, 1, 2].map((i) => sampleRequisition('globex', i)),
  sampleRequisition('initech', 1, { deliveryRegion: 'antarctica' }),
  sampleRequisition('initech', 0),
  sampleRequisition('initech', 2),
  sampleRequisition('umbrella', 0),
];
const tenantOf = (negotiationId: string) => negotiationId.split('-')[0]!;
/** What the human does with each award that waits: approve, deny, or nothing until it expires. */
const HUMAN: Record<string, 'approve' | 'deny' | 'expire'> = {
  [sampleRequisition('initech', 0).negotiationId]: 'approve',
  [sampleRequisition('initech', 2).negotiationId]: 'deny',
  [sampleRequisition('umbrella', 0).negotiationId]: 'expire',
};

interface Engine {
  stack: ProcurementStack;
  approvals: ApprovalStore;
  close(): Promise<void>;
}

let dir: string;
let home: ProcurementHome;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'charter-sfn-'));
  home = await procurementHome(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openEngine(name: string): Promise<Engine> {
  const world = referenceWorld({ tenants: TENANTS });
  const suppliers = await world.network.serve();
  const audit = await openAuditLog({ dir: join(dir, name, 'audit'), signer: home.auditSigner, origin: 'test/sfn' });
  const options = home.stackOptions(join(dir, name), world, suppliers.url, audit);
  // A loaded machine must not turn a slow quote into a missing bid in one engine and not the other.
  const stack = await openProcurementStack({
    ...options,
    config: config(),
    supplierClient: { timeoutMs: 30_000, failureThreshold: 3, openMs: 60_000 },
  });
  return {
    stack,
    approvals: options.approvals,
    async close() {
      await stack.close();
      await audit.close();
      await suppliers.close();
    },
  };
}

async function decide(engine: Engine, state: NegotiationState): Promise<void> {
  const id = state.approval!.approvalId!;
  const alice = approverKey(loadPrivateKey(home.approverKeyFile), home.trusted);
  const what = HUMAN[state.negotiationId];
  if (what === 'approve') await engine.approvals.approve(id, alice);
  else if (what === 'deny') await engine.approvals.deny(id, alice, 'wrong supplier');
  else await sleep(Date.parse(state.approval!.deadline!) - Date.now() + 200);
}

/** What must agree between the engines: where each negotiation ended and what it did. */
function outcome(engine: Engine, s: NegotiationState) {
  return {
    negotiationId: s.negotiationId,
    status: s.status,
    reason: s.reason,
    route: s.route?.node ?? null,
    bids: engine.stack.store.bidsOf(s.tenantId, s.negotiationId).length,
    award: s.evaluation?.output.award
      ? { supplierId: s.evaluation.output.award.supplierId, priceCents: s.evaluation.output.award.priceCents }
      : null,
    approval: s.approval ? { mode: s.approval.mode, status: s.approval.status } : null,
    attention: s.attention ? { trigger: s.attention.trigger, review: s.attention.caseId ? 'case' : 'none' } : null,
    purchaseOrders: engine.stack.store.documentsOf(s.tenantId, s.negotiationId, 'purchase-order').length,
    findings: engine.stack.store.documentsOf(s.tenantId, s.negotiationId, 'compliance-finding').length,
  };
}

async function embedded(): Promise<Array<ReturnType<typeof outcome>>> {
  const engine = await openEngine('embedded');
  try {
    const results = await Promise.all(PLAN.map((r) => engine.stack.orchestrator.negotiate(tenantOf(r.negotiationId), r)));
    for (const [i, s] of results.entries()) {
      if (s.status !== 'AWAITING_APPROVAL') continue;
      await decide(engine, s);
      results[i] = await engine.stack.orchestrator.run(s.tenantId, s.negotiationId);
    }
    return results.map((s) => outcome(engine, s));
  } finally {
    await engine.close();
  }
}

const client = (endpoint: string) =>
  new SFNClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' } });

async function execution(sfn: SFNClient, executionArn: string) {
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await sleep(50);
  }
}

describe('the exported ASL, executed', () => {
  let server: StepFunctionsServer | undefined;
  const tokens: Record<string, string> = {};
  afterAll(() => server?.close());

  it("runs the demo's negotiations to the embedded engine's outcomes, waiting on task tokens for the humans", async () => {
    const expected = await embedded();
    const engine = await openEngine('stepfunctions');
    try {
      // The step invokers answer to the engine, whose endpoint their task callbacks use.
      const steps: { invoker?: StepInvoker } = {};
      server = await startStepFunctionsServer(exportAsl(), (fn, payload) => steps.invoker!.invoke(fn, payload));
      const sfn = client(server.endpoint);
      const callbacks = sfnTaskCallbacks(sfn);
      steps.invoker = new StepInvoker(engine.stack.orchestrator, engine.stack.store, engine.approvals, callbacks);
      const arns = await Promise.all(
        PLAN.map(async (r) => {
          const input = JSON.stringify({ tenantId: tenantOf(r.negotiationId), requisition: r });
          const started = await sfn.send(
            new StartExecutionCommand({ stateMachineArn: server!.stateMachineArn, name: r.negotiationId, input }),
          );
          return started.executionArn!;
        }),
      );
      // The humans act once each award waits on its task token, as `charter approvals approve|deny` does:
      // decide the request, then return the token kept beside it.
      await Promise.all(
        Object.keys(HUMAN).map(async (negotiationId) => {
          const tenantId = tenantOf(negotiationId);
          let state = engine.stack.store.get(tenantId, negotiationId);
          const arn = arns[PLAN.findIndex((r) => r.negotiationId === negotiationId)]!;
          while (!state?.approval?.approvalId || !engine.stack.store.taskToken(tenantId, state.approval.approvalId)) {
            const d = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
            expect(
              d.status,
              `${negotiationId} ended (${state?.status}: ${state?.reason}) before waiting for a human: ${d.error} ${d.cause}`,
            ).toBe('RUNNING');
            await sleep(50);
            state = engine.stack.store.get(tenantId, negotiationId);
          }
          expect(state.status).toBe('AWAITING_APPROVAL');
          const token = engine.stack.store.taskToken(tenantId, state.approval.approvalId)!;
          expect(server!.waiting()).toContain(token);
          tokens[negotiationId] = token;
          // Nobody acts on the one that expires: the wait's own timeout (the request's deadline) ends it.
          if (HUMAN[negotiationId] === 'expire') return;
          await decide(engine, state);
          const request = engine.approvals.get(state.approval.approvalId);
          await completeApprovalTask(callbacks, token, request.status, request.id);
        }),
      );
      const runs = await Promise.all(arns.map((arn) => execution(sfn, arn)));
      const states = PLAN.map((r) => engine.stack.store.get(tenantOf(r.negotiationId), r.negotiationId)!);
      expect(states.map((s) => outcome(engine, s))).toEqual(expected);
      // Every execution ended in the state its negotiation's status names.
      const endState: Record<string, string> = { AWARDED: 'SUCCEEDED', CANCELLED: 'SUCCEEDED', REQUIRES_ATTENTION: 'SUCCEEDED' };
      expect(runs.map((r) => r.status)).toEqual(states.map((s) => endState[s.status]));
      expect(expected.map((o) => o.status)).toEqual(expect.arrayContaining(['AWARDED', 'CANCELLED', 'REQUIRES_ATTENTION']));
      expect(
        expected
          .filter((o) => o.approval?.mode === 'human')
          .map((o) => o.approval!.status)
          .sort(),
      ).toEqual(['approved', 'denied', 'expired']);
    } finally {
      await engine.close();
    }
  }, 180_000);

  it('refuses a spent, unknown or malformed task token as the service does', async () => {
    expect(server).toBeDefined();
    const sfn = client(server!.endpoint);
    expect(Object.keys(tokens)).toHaveLength(3);
    for (const taskToken of Object.values(tokens))
      await expect(sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'no-such-token', output: '{}' }))).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'x'.repeat(2049), output: '{}' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});
