import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../agents/index.js';
import { openAuditLog, queryAudit, type AuditLog } from '../audit/index.js';
import { contentPath } from '../common/index.js';
import { ApprovalStore } from '../gateway/index.js';
import { AdmissionDenied, openProcurementStack, referenceWorld, sampleRequisition, type ProcurementStack, type ReferenceWorld, type WorldOptions } from '../orchestrator/index.js';
import { compileManifest, signManifest, verifyManifestEnvelope, Workspace, type VerifiedManifest } from '../policy-packs/index.js';
import { addTrustedKeys, generateEd25519Key, loadPrivateKey, loadTrustedKeys, LocalKeySigner, type TrustedKeysFile } from '../signing/index.js';

/** One throwaway Charter home: keys, the eight manifests compiled from the shipped packs, an audit log. */
interface Home {
  dir: string;
  trusted: TrustedKeysFile;
  manifests: VerifiedManifest[];
  approverKey: string;
}

async function makeHome(): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-dag-'));
  const keys = join(dir, 'keys');
  const signerKey = generateEd25519Key(keys, 'manifest-signer', ['manifest']);
  const audit = generateEd25519Key(keys, 'audit', ['audit-checkpoint']);
  const alice = generateEd25519Key(keys, 'alice', ['approval']);
  addTrustedKeys(join(keys, 'trusted-keys.json'), [signerKey.trusted, audit.trusted, alice.trusted]);
  const trusted = loadTrustedKeys(join(keys, 'trusted-keys.json'));
  const ws = new Workspace(contentPath('policy-packs', 'packs'));
  const signer = new LocalKeySigner(loadPrivateKey(signerKey.privateKeyFile));
  const manifests: VerifiedManifest[] = [];
  for (const agent of AGENT_NAMES) manifests.push(verifyManifestEnvelope(await signManifest(compileManifest(ws, agent), signer), trusted));
  return { dir, trusted, manifests, approverKey: alice.privateKeyFile };
}

interface Run {
  stack: ProcurementStack;
  world: ReferenceWorld;
  audit: AuditLog;
  approvals: ApprovalStore;
  close(): Promise<void>;
}

async function open(home: Home, name: string, world: WorldOptions, now?: () => number): Promise<Run> {
  const w = referenceWorld(world);
  const suppliers = await w.network.serve();
  const audit = await openAuditLog({ dir: join(home.dir, name, 'audit'), signer: new LocalKeySigner(loadPrivateKey(join(home.dir, 'keys', 'audit.key.pem'))), origin: 'test/orchestrator' });
  const approvals = new ApprovalStore(join(home.dir, name, 'approvals'));
  const stack = await openProcurementStack({
    dbFile: join(home.dir, name, 'orchestrator.sqlite'),
    manifests: home.manifests,
    trustedKeys: home.trusted,
    audit,
    approvals,
    config: w.config,
    directory: w.directory,
    supplierUrl: suppliers.url,
    ...(now ? { now } : {}),
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
      for (const t of ['record_classification', 'solicit_spot_bids', 'open_auction_round', 'compute_tco', 'propose_terms', 'record_evaluation', 'issue_purchase_order', 'send_supplier_notification']) expect(tools).toContain(t);
      const denied = records.filter((r) => r.kind === 'decision' && r.decision === 'deny');
      expect(denied.map((r) => (r.kind === 'decision' ? `${r.tool}: ${r.reasons.join('; ')}` : ''))).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
