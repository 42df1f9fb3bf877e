import { join } from 'node:path';
import { AGENT_NAMES, INVOCATION_ENVELOPE } from '../agents/index.js';
import { contentPath, writeFileAtomic } from '../common/index.js';
import type { AuditLog } from '../audit/index.js';
import { ApprovalStore, ApproverDirectory } from '../gateway/index.js';
import type { ProcurementStackOptions, ReferenceWorld } from '../orchestrator/index.js';
import { compileManifest, signManifest, verifyManifestEnvelope, Workspace, type VerifiedManifest } from '../policy-packs/index.js';
import {
  addTrustedKeys,
  generateEd25519Key,
  loadPrivateKey,
  loadTrustedKeys,
  LocalKeySigner,
  type TrustedKeysFile,
} from '../signing/index.js';

const PROCUREMENT_APPROVERS = `approvers:
  alice: { tenants: [acme, globex, initech, umbrella], spendLimitCents: 100000000, roles: [buyer] }
`;

/** A Charter home for the procurement reference, made in process: signing keys and the eight verified manifests. */
export interface ProcurementHome {
  trusted: TrustedKeysFile;
  manifests: VerifiedManifest[];
  /** Signs the audit checkpoints. */
  auditSigner: LocalKeySigner;
  /** The orchestrator's agent-envelope key (signs every agent invocation). */
  envelopeSigner: LocalKeySigner;
  /** alice, the buyer who approves awards: her private key file (trusted for `approval`). */
  approverKeyFile: string;
  /** Who may approve what (`<dir>/approvers.yaml`): alice, buyer of every reference tenant up to 1,000,000.00. */
  approvers: ApproverDirectory;
  /** Stack options for a run in `dir` (its own store and approvals) over the world and its served suppliers. */
  stackOptions(dir: string, world: ReferenceWorld, supplierUrl: string, audit: AuditLog): ProcurementStackOptions;
}

/** Generates the manifest, audit and orchestrator envelope keys under `<dir>/keys` and compiles and signs every agent's manifest from the shipped packs. */
export async function procurementHome(dir: string): Promise<ProcurementHome> {
  const keys = join(dir, 'keys');
  const manifestKey = generateEd25519Key(keys, 'manifest-signer', ['manifest']);
  const auditKey = generateEd25519Key(keys, 'audit', ['audit-checkpoint']);
  const envelopeKey = generateEd25519Key(keys, INVOCATION_ENVELOPE.sender, ['agent-envelope']);
  const approverKey = generateEd25519Key(keys, 'alice', ['approval']);
  addTrustedKeys(join(keys, 'trusted-keys.json'), [manifestKey.trusted, auditKey.trusted, envelopeKey.trusted, approverKey.trusted]);
  const trusted = loadTrustedKeys(join(keys, 'trusted-keys.json'));
  writeFileAtomic(join(dir, 'approvers.yaml'), PROCUREMENT_APPROVERS);
  const approvers = ApproverDirectory.load(join(dir, 'approvers.yaml'), trusted);
  const ws = new Workspace(contentPath('policy-packs', 'packs'));
  const signer = new LocalKeySigner(loadPrivateKey(manifestKey.privateKeyFile));
  const manifests: VerifiedManifest[] = [];
  for (const agent of AGENT_NAMES) manifests.push(verifyManifestEnvelope(await signManifest(compileManifest(ws, agent), signer), trusted));
  return {
    trusted,
    manifests,
    auditSigner: new LocalKeySigner(loadPrivateKey(auditKey.privateKeyFile)),
    envelopeSigner: new LocalKeySigner(loadPrivateKey(envelopeKey.privateKeyFile)),
    approverKeyFile: approverKey.privateKeyFile,
    approvers,
    stackOptions: (runDir, world, supplierUrl, audit) => ({
      dbFile: join(runDir, 'negotiations.sqlite'),
      manifests,
      trustedKeys: trusted,
      envelopeSigner: new LocalKeySigner(loadPrivateKey(envelopeKey.privateKeyFile)),
      audit,
      approvals: new ApprovalStore(join(runDir, 'approvals')),
      approvers,
      config: world.config,
      directory: world.directory,
      supplierUrl,
    }),
  };
}
