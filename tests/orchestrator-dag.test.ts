import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { AGENT_NAMES, INVOCATION_ENVELOPE, StaticConfigStore, ToolFailedError } from '../agents/index.js';
import { startConverseServer } from './servers/converse.js';
import { openAuditLog, queryAudit, type AuditLog } from '../audit/index.js';
import { contentPath } from '../common/index.js';
import { ApprovalStore, approverKey, ApproverDirectory } from '../gateway/index.js';
import {
  AdmissionDenied,
  CheckpointConflict,
  openProcurementStack,
  referenceWorld,
  sampleRequisition,
  type ProcurementStack,
  type ProcurementStackOptions,
  type ReferenceWorld,
  type WorldOptions,
} from '../orchestrator/index.js';
import { compileManifest, signManifest, verifyManifestEnvelope, Workspace, type VerifiedManifest } from '../policy-packs/index.js';
import {
  addTrustedKeys,
  generateEd25519Key,
  loadPrivateKey,
  loadTrustedKeys,
  LocalKeySigner,
  type TrustedKeysFile,
} from '../signing/index.js';

/** One throwaway Charter home: keys, the eight manifests compiled from the shipped packs, an audit log. */
interface Home {
  dir: string;
  trusted: TrustedKeysFile;
  manifests: VerifiedManifest[];
  approverKey: string;
  envelopeKey: string;
  /** alice approves purchase orders of every reference tenant (approvers.yaml in the home). */
  approvers: ApproverDirectory;
}

async function makeHome(): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-dag-'));
  const keys = join(dir, 'keys');
  const signerKey = generateEd25519Key(keys, 'manifest-signer', ['manifest']);
  const audit = generateEd25519Key(keys, 'audit', ['audit-checkpoint']);
  const alice = generateEd25519Key(keys, 'alice', ['approval']);
  const envelopes = generateEd25519Key(keys, INVOCATION_ENVELOPE.sender, ['agent-envelope']);
  addTrustedKeys(join(keys, 'trusted-keys.json'), [signerKey.trusted, audit.trusted, alice.trusted, envelopes.trusted]);
  const trusted = loadTrustedKeys(join(keys, 'trusted-keys.json'));
  const ws = new Workspace(contentPath('policy-packs', 'packs'));
  const signer = new LocalKeySigner(loadPrivateKey(signerKey.privateKeyFile));
  const manifests: VerifiedManifest[] = [];
  for (const agent of AGENT_NAMES) manifests.push(verifyManifestEnvelope(await signManifest(compileManifest(ws, agent), signer), trusted));
  const approversFile = join(dir, 'approvers.yaml');
  writeFileSync(approversFile, 'approvers:\n  alice: { tenants: [acme, globex, initech], spendLimitCents: 100000000, roles: [buyer] }\n');
  const approvers = ApproverDirectory.load(approversFile, trusted);
  return { dir, trusted, manifests, approverKey: alice.privateKeyFile, envelopeKey: envelopes.privateKeyFile, approvers };
}

interface Run {
  stack: ProcurementStack;
  world: ReferenceWorld;
  audit: AuditLog;
  approvals: ApprovalStore;
  close(): Promise<void>;
}

async function open(home: Home, name: string, world: WorldOptions, extra: Partial<ProcurementStackOptions> = {}): Promise<Run> {
  const w = referenceWorld(world);
  const suppliers = await w.network.serve();
  const audit = await openAuditLog({
    dir: join(home.dir, name, 'audit'),
    signer: new LocalKeySigner(loadPrivateKey(join(home.dir, 'keys', 'audit.key.pem'))),
    origin: 'test/orchestrator',
  });
  const approvals = new ApprovalStore(join(home.dir, name, 'approvals'));
  const stack = await openProcurementStack({
    dbFile: join(home.dir, name, 'orchestrator.sqlite'),
    manifests: home.manifests,
    trustedKeys: home.trusted,
    envelopeSigner: new LocalKeySigner(loadPrivateKey(home.envelopeKey)),
    audit,
    approvals,
    approvers: home.approvers,
    config: w.config,
    directory: w.directory,
    supplierUrl: suppliers.url,
    ...extra,
  });
  return {
    stack,
    world: w,
    audit,
    approvals,
    async close() {
      await stack.close();
      await audit.close();
      await suppliers.close();
    },
  };
}

let home: Home;
beforeAll(async () => {
  home = await makeHome();
}, 120_000);
afterAll(() => rmSync(home.dir, { recursive: true, force: true }));

describe('negotiation DAG end to end through the gateway', () => {
  it('runs each Kraljic quadrant to an award, every tool call decided and audited', async () => {
    const run = await open(home, 'quadrants', { tenants: ['acme'] });
    try {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', i)));
      expect(results.map((r) => r.route?.node)).toEqual(['4a', '4b', '4c', '4d']);
      for (const r of results) {
        expect(r.status, `${r.negotiationId}: ${r.reason}`).toBe('AWARDED');
        expect(r.classification?.producedBy).toEqual({ strategy: 'rules' });
        expect(r.award?.output.purchaseOrders).toHaveLength(1);
      }
      await run.audit.flush();
      const records = await queryAudit({ dir: join(home.dir, 'quadrants', 'audit'), tenant: 'acme', kind: 'decision' });
      const tools = new Set(records.map((r) => (r.kind === 'decision' ? r.tool : '')));
      for (const t of [
        'record_classification',
        'solicit_spot_bids',
        'open_auction_round',
        'compute_tco',
        'propose_terms',
        'record_evaluation',
        'issue_purchase_order',
        'send_supplier_notification',
      ])
        expect(tools).toContain(t);
      const denied = records.filter((r) => r.kind === 'decision' && r.decision === 'deny');
      expect(denied.map((r) => (r.kind === 'decision' ? `${r.tool}: ${r.reasons.join('; ')}` : ''))).toEqual([]);
    } finally {
      await run.close();
    }
  });
});

describe('node retry', () => {
  /** In-process agents whose `agent` fails its first `failures` invocations as a tool failure after an allow. */
  const flaky = (agent: string, failures: number): Partial<ProcurementStackOptions> => ({
    agents: (local) => {
      let failed = 0;
      return {
        invoke: (name, tenantId, input, opts) => {
          if (name === agent && failed < failures) {
            failed++;
            return Promise.reject(
              new ToolFailedError('record_classification', {
                decision: { outcome: 'allowed', decision: 'allow', recordId: 'r', reasons: [] },
                isError: true,
                value: null,
                error: 'upstream failed: fetch failed (UND_ERR_SOCKET: other side closed)',
              }),
            );
          }
          return local.invoke(name, tenantId, input, opts);
        },
      };
    },
  });

  it('retries a node whose allowed tool call failed, as the Step Functions Retry does, and reports each retry', async () => {
    const events: string[] = [];
    const run = await open(
      home,
      'retry',
      { tenants: ['acme'] },
      {
        ...flaky('kraljic-classifier', 2),
        retry: { maxAttempts: 3, intervalMs: 10, backoffRate: 2 },
        onEvent: (e) => events.push(`${e.node}: ${e.note}`),
      },
    );
    try {
      const result = await run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0));
      expect(result.status, result.reason ?? '').toBe('AWARDED');
      expect(events.filter((e) => e.includes('retry'))).toEqual([
        expect.stringMatching(/^classify: retry 1\/3 in 10 ms after: tool record_classification failed/),
        expect.stringMatching(/^classify: retry 2\/3 in 20 ms after/),
      ]);
      expect(result.history.filter((h) => h.node === 'classify')).toHaveLength(1);
    } finally {
      await run.close();
    }
  });

  it('after the last retry the failure stands, with the checkpoint kept for a resume', async () => {
    const run = await open(
      home,
      'retry-out',
      { tenants: ['acme'] },
      { ...flaky('kraljic-classifier', 5), retry: { maxAttempts: 1, intervalMs: 10, backoffRate: 2 } },
    );
    try {
      await expect(run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0))).rejects.toBeInstanceOf(ToolFailedError);
      expect(run.stack.store.get('acme', sampleRequisition('acme', 0).negotiationId)).toMatchObject({
        status: 'ACTIVE',
        nextNode: 'classify',
      });
    } finally {
      await run.close();
    }
  });
});

describe('a run another runner overtook', () => {
  it('writes nothing over the newer checkpoint: its next write conflicts', async () => {
    const id = sampleRequisition('acme', 0).negotiationId;
    let overtaken = false;
    const run: Awaited<ReturnType<typeof open>> = await open(
      home,
      'overtaken',
      { tenants: ['acme'] },
      {
        onEvent: (e) => {
          if (e.node !== 'classify' || overtaken) return;
          overtaken = true;
          // This runner stalled past its lease; the runner that took over moves the negotiation on first.
          const store = run.stack.store;
          const current = store.get('acme', id)!;
          store.checkpoint({ ...current, reason: 'written by the runner that took over' }, store.version('acme', id), 'classify');
        },
      },
    );
    try {
      // Before: the run read the version again at every node and wrote its older state over the newer one.
      await expect(run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0))).rejects.toBeInstanceOf(CheckpointConflict);
      expect(run.stack.store.get('acme', id)).toMatchObject({ nextNode: 'route', reason: 'written by the runner that took over' });
    } finally {
      await run.close();
    }
  });
});

describe('approval gate (node 6)', () => {
  it('waits above the spend threshold, then awards once a human approved', async () => {
    const run = await open(home, 'approval', { tenants: ['globex'], spendThresholdCents: { globex: 10_000 } });
    try {
      const waiting = await run.stack.orchestrator.negotiate('globex', sampleRequisition('globex', 0));
      expect(waiting.status).toBe('AWAITING_APPROVAL');
      const id = waiting.approval!.approvalId!;
      const request = run.approvals.get(id);
      expect(request).toMatchObject({ tenant: 'globex', agent: 'award-communications', tool: 'issue_purchase_order', status: 'pending' });
      expect(Date.parse(request.expiresAt) - Date.parse(request.requestedAt)).toBe(96 * 3600 * 1000);
      // Resuming before anyone approved keeps waiting and issues nothing.
      expect((await run.stack.orchestrator.run('globex', waiting.negotiationId)).status).toBe('AWAITING_APPROVAL');
      expect(run.stack.store.documentsOf('globex', waiting.negotiationId, 'purchase-order')).toHaveLength(0);
      await run.approvals.approve(id, approverKey(loadPrivateKey(home.approverKey), home.trusted));
      const done = await run.stack.orchestrator.run('globex', waiting.negotiationId);
      expect(done.status, done.reason ?? '').toBe('AWARDED');
      expect(done.approval).toMatchObject({ mode: 'human', status: 'approved' });
      expect(run.stack.store.documentsOf('globex', waiting.negotiationId, 'purchase-order')).toHaveLength(1);
    } finally {
      await run.close();
    }
  });

  it('goes to REQUIRES_ATTENTION with a compliance finding when nobody approves within 96 h', async () => {
    let clock = Date.now();
    const run = await open(home, 'timeout', { tenants: ['initech'], spendThresholdCents: { initech: 10_000 } }, { now: () => clock });
    try {
      const waiting = await run.stack.orchestrator.negotiate('initech', sampleRequisition('initech', 0));
      expect(waiting.status).toBe('AWAITING_APPROVAL');
      clock += 95 * 3600 * 1000;
      expect((await run.stack.orchestrator.run('initech', waiting.negotiationId)).status).toBe('AWAITING_APPROVAL');
      clock += 2 * 3600 * 1000;
      const timedOut = await run.stack.orchestrator.run('initech', waiting.negotiationId);
      expect(timedOut.status).toBe('REQUIRES_ATTENTION');
      expect(timedOut.attention).toMatchObject({ trigger: 'approval_timeout', severity: 'major' });
      expect(timedOut.attention?.caseId).toBeTruthy();
      expect(run.stack.store.documentsOf('initech', waiting.negotiationId, 'compliance-finding')).toHaveLength(1);
      expect(run.stack.store.documentsOf('initech', waiting.negotiationId, 'purchase-order')).toHaveLength(0);
    } finally {
      await run.close();
    }
  });
});

describe('admission control and tenant isolation', () => {
  it('answers 429 with Retry-After to a tenant at its max while other tenants are admitted', async () => {
    const run = await open(home, 'admission', {
      tenants: ['acme', 'globex'],
      admission: { reservedSlots: 1, maxSlots: 2, retryAfterSeconds: 7 },
    });
    try {
      const o = run.stack.orchestrator;
      await o.submit('acme', sampleRequisition('acme', 0));
      await o.submit('acme', sampleRequisition('acme', 1));
      let denied: unknown;
      try {
        await o.submit('acme', sampleRequisition('acme', 2));
      } catch (err) {
        denied = err;
      }
      expect(denied).toBeInstanceOf(AdmissionDenied);
      expect(denied).toMatchObject({ status: 429, retryAfterSeconds: 7 });
      expect(run.stack.store.get('acme', 'acme-n003')?.status).toBe('DRAFT');
      expect((await o.submit('globex', sampleRequisition('globex', 0))).status).toBe('ACTIVE');
      expect(run.stack.store.activeCount('acme')).toBe(2);
      // A slot frees when a negotiation leaves ACTIVE; the refused one is admitted on retry.
      await o.run('acme', 'acme-n001');
      expect((await o.submit('acme', sampleRequisition('acme', 2))).status).toBe('ACTIVE');
    } finally {
      await run.close();
    }
  });

  it("refuses a resume that names another tenant's negotiation, and the gateway refuses cross-tenant tool calls", async () => {
    const run = await open(home, 'isolation', { tenants: ['acme', 'globex'] });
    try {
      const acme = await run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0));
      expect(acme.status).toBe('AWARDED');
      await expect(run.stack.orchestrator.run('globex', acme.negotiationId)).rejects.toThrow(
        /no negotiation 'acme-n001' for tenant 'globex'/,
      );
      const d = await run.stack.path.decide({
        identity: { principal: 'test', tenantId: 'globex', agentId: 'bid-evaluation' },
        tool: 'get_bids',
        args: { negotiationId: `acme/${acme.negotiationId}` },
      });
      expect(d.record.decision).toBe('deny');
      expect(d.record.determiningPolicies).toContain('base.tenant-isolation');
    } finally {
      await run.close();
    }
  });
});

describe('failure paths', () => {
  it('terminates an invalid requisition, cancels when the delivery gate empties the pool, flags zero bids', async () => {
    const faults = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`umbra-s0${i + 1}`, 'decline' as const]));
    const run = await open(home, 'failures', { tenants: ['acme', 'umbra'], faults });
    try {
      const o = run.stack.orchestrator;
      const dup = sampleRequisition('acme', 0, { lines: [sampleRequisition('acme', 0).lines[0]!, sampleRequisition('acme', 0).lines[0]!] });
      const terminated = await o.submit('acme', dup);
      expect(terminated.status).toBe('TERMINATED');
      expect(terminated.reason).toMatch(/line L1 appears twice/);
      await expect(o.submit('acme', { ...sampleRequisition('acme', 1), budgetCents: -5 })).rejects.toThrow(/budgetCents/);
      const nowhere = await o.negotiate('acme', sampleRequisition('acme', 2, { deliveryRegion: 'antarctica' }));
      expect(nowhere).toMatchObject({ status: 'CANCELLED', reason: 'no_eligible_suppliers (PR cancelled)' });
      const dry = await o.negotiate('umbra', sampleRequisition('umbra', 0));
      expect(dry.status).toBe('REQUIRES_ATTENTION');
      expect(dry.attention).toMatchObject({ trigger: 'no_bids', severity: 'info' });
      expect(run.stack.store.documentsOf('umbra', dry.negotiationId, 'attention-flag')).toHaveLength(1);
    } finally {
      await run.close();
    }
  });

  it('serves a repeated category from the tenant semantic cache, never from another tenant', async () => {
    const run = await open(home, 'cache', { tenants: ['acme', 'globex'] });
    try {
      const o = run.stack.orchestrator;
      const first = await o.negotiate('acme', sampleRequisition('acme', 0));
      const again = await o.negotiate(
        'acme',
        sampleRequisition('acme', 4, { category: { ...sampleRequisition('acme', 0).category, name: 'office supply' } }),
      );
      const other = await o.negotiate('globex', sampleRequisition('globex', 0));
      expect([first.classification?.cache, again.classification?.cache, other.classification?.cache]).toEqual(['miss', 'hit', 'miss']);
      expect(again.status).toBe('AWARDED');
    } finally {
      await run.close();
    }
  });
});

describe('with a model (Bedrock Converse, local server)', () => {
  it('classifies with the model, says so, attributes its tokens, and falls back to rules on a bad answer', async () => {
    const converse = await startConverseServer((call) => ({
      text: call.userText.includes('Office supplies') ? 'Sure: {"quadrant": "Non-Critical", "confidence": 0.93}' : 'no idea',
    }));
    const modelClient = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: converse.url,
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    });
    const config = StaticConfigStore.of({ defaults: { models: { SimpleLLM: 'amazon.nova-micro-v1:0', DefaultLLM: '' } } });
    const prices = {
      currency: 'USD',
      validFrom: '2026-01-01',
      models: { 'amazon.nova-micro-v1:0': { inputPerMillionTokens: 0.035, outputPerMillionTokens: 0.14 } },
      orchestrator: { perMonth: 0 },
    };
    const run = await open(home, 'model', { tenants: ['acme'] }, { config, models: { bedrock: modelClient }, prices });
    try {
      const office = await run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 0));
      expect(office.classification).toMatchObject({
        producedBy: { model: 'amazon.nova-micro-v1:0' },
        output: { quadrant: 'Non-Critical', confidence: 0.93, method: 'model' },
      });
      // Agents without a configured tier model (DefaultLLM: '') run their rules and say so.
      expect(office.evaluation?.producedBy).toEqual({ strategy: 'rules' });
      const steel = await run.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 1));
      expect(steel.classification).toMatchObject({
        producedBy: { strategy: 'rules' },
        output: { quadrant: 'Leverage', confidence: 0, method: 'rule-based' },
      });
      expect(steel.classification?.warnings[0]).toMatch(/rule-based fallback/);
      const costs = run.stack.store.costs({ tenantId: 'acme' }).filter((c) => c.agent === 'kraljic-classifier');
      expect(costs.find((c) => c.negotiationId === 'acme-n001')).toMatchObject({
        model: 'amazon.nova-micro-v1:0',
        modelCalls: 1,
        inputTokens: 120,
        outputTokens: 30,
      });
      // The model was called twice and failed: its calls and tokens are booked to it, not to the rules that answered.
      expect(costs.find((c) => c.negotiationId === 'acme-n002')).toMatchObject({
        model: 'amazon.nova-micro-v1:0',
        modelCalls: 2,
        costMicros: Math.round(240 * 0.035 + 60 * 0.14),
      });
    } finally {
      await run.close();
      await converse.close();
    }
  });
});

describe('scale', () => {
  it('runs ten tenants with ten negotiations each concurrently, each tenant seeing only its own state', async () => {
    const tenants = Array.from({ length: 10 }, (_, i) => `t${i}`);
    // Two shared cores run 100 negotiations here: supplier timeouts are set for load, not for latency.
    const supplierClient = { timeoutMs: 120_000, failureThreshold: 1_000, openMs: 1_000 };
    const upstreamGuard = { timeoutMs: 200_000, maxConcurrent: 1_000 };
    const run = await open(
      home,
      'scale',
      { tenants, latencyMs: 5, spendThresholdCents: Object.fromEntries(tenants.map((t) => [t, 1_000_000_000])) },
      { supplierClient, upstreamGuard },
    );
    try {
      const results = await Promise.all(
        tenants.flatMap((t) => Array.from({ length: 10 }, (_, i) => run.stack.orchestrator.negotiate(t, sampleRequisition(t, i)))),
      );
      expect(results.filter((r) => r.status !== 'AWARDED').map((r) => `${r.tenantId}/${r.negotiationId}: ${r.status} ${r.reason}`)).toEqual(
        [],
      );
      for (const t of tenants) {
        const mine = run.stack.store.list({ tenantId: t });
        expect(mine).toHaveLength(10);
        for (const n of mine) {
          expect(n.negotiationId.startsWith(`${t}-`)).toBe(true);
          expect(
            run.stack.store.bidsOf(t, n.negotiationId).every((b) => b.supplierId.startsWith(`${t}-`) && b.bidId.startsWith(`${t}/`)),
          ).toBe(true);
        }
        const costs = run.stack.store.costs({ tenantId: t });
        expect(new Set(costs.map((c) => c.negotiationId)).size).toBe(10);
        expect(costs.every((c) => c.tenantId === t)).toBe(true);
      }
    } finally {
      await run.close();
    }
  }, 400_000);
});
