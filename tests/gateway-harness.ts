import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { contentPath, writeFileAtomic } from '../common/index.js';
import { addTrustedKeys, generateEd25519Key, LocalKeySigner, loadPrivateKey, type KeyPurpose } from '../signing/index.js';
import { openAuditLog, type AuditLog, type EnforcementMode } from '../audit/index.js';
import { compileManifest, envelopeText, signManifest, Workspace } from '../policy-packs/index.js';
import {
  ApprovalStore,
  IdentityVerifier,
  localApprover,
  openDecisionPath,
  serveGatewayHttp,
  upstreamAction,
  UpstreamPool,
  type ApproverKey,
  type CallerIdentity,
  type DecisionPath,
  type LoopbackMcp,
} from '../gateway/index.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

export const FIXTURE_PACKS = contentPath('gateway', 'fixtures', 'packs');
export const FIXTURE_ENTITIES = contentPath('gateway', 'fixtures', 'entities.yaml');
export const AGENT = 'spot-bidding';

/** The harness's approvers: alice and bob approve for every fixture tenant up to 1,000,000.00 (roles of the fixture and of the shipped packs). */
export const FIXTURE_APPROVERS = `approvers:
  alice: { tenants: [acme, globex, initech, umbrella], spendLimitCents: 100000000, roles: [approver, buyer, finance] }
  bob: { tenants: [acme, globex, initech, umbrella], spendLimitCents: 100000000, roles: [approver, buyer, finance] }
`;

type ReopenOptions = { mode?: EnforcementMode; manifestFile?: string; entitiesFile?: string | string[]; approversFile?: string };

export interface GatewayHarness {
  home: string;
  trustedKeysFile: string;
  /** `<home>/approvers.yaml` (FIXTURE_APPROVERS unless a test rewrites it). */
  approversFile: string;
  manifestFile: string;
  manifestDigest: string;
  approvals: ApprovalStore;
  audit: AuditLog;
  path: DecisionPath;
  /** Private keys by name: alice and bob are trusted approvers, mallory is not trusted. */
  key(name: 'alice' | 'bob' | 'mallory' | 'audit' | 'manifest-signer'): KeyObject;
  /** An approver as its key presents itself: the name is the one it claims (mallory's is trusted nowhere). */
  approver(name: 'alice' | 'bob' | 'mallory'): ApproverKey;
  identity(tenant: string, agent?: string): CallerIdentity;
  /** Opens another decision path over the same files (e.g. LOG_ONLY, a tampered manifest, other entity data or approvers). */
  reopen(opts?: ReopenOptions): DecisionPath;
  close(): Promise<void>;
}

/**
 * A gateway on real parts in a temporary CHARTER_HOME: keys (manifest signer, two trusted
 * approvers and one untrusted), one agent of a packs folder (default: the gateway's fixture
 * packs) compiled and signed by the policy-packs compiler, the real audit log, and the decision
 * path built from those files.
 */
export async function openGatewayHarness(
  opts: { mode?: EnforcementMode; packsDir?: string; agent?: string; entitiesFile?: string | string[] } = {},
): Promise<GatewayHarness> {
  const agent = opts.agent ?? AGENT;
  const home = mkdtempSync(join(tmpdir(), 'charter-gw-'));
  const keysDir = join(home, 'keys');
  const trustedKeysFile = join(keysDir, 'trusted-keys.json');
  const make = (name: string, purposes: KeyPurpose[], trusted = true) => {
    const k = generateEd25519Key(keysDir, name, purposes);
    if (trusted) addTrustedKeys(trustedKeysFile, [k.trusted]);
    return k.privateKeyFile;
  };
  const keyFiles = {
    'manifest-signer': make('manifest-signer', ['manifest']),
    alice: make('alice', ['approval']),
    bob: make('bob', ['approval']),
    mallory: make('mallory', ['approval'], false),
    audit: make('audit', ['audit-checkpoint']),
  };
  const compiled = compileManifest(new Workspace(opts.packsDir ?? FIXTURE_PACKS), agent);
  const envelope = await signManifest(compiled, new LocalKeySigner(loadPrivateKey(keyFiles['manifest-signer'])));
  const manifestFile = join(home, 'manifests', `${agent}.manifest.json`);
  writeFileAtomic(manifestFile, envelopeText(envelope));
  const audit = await openAuditLog({
    dir: join(home, 'audit'),
    signer: new LocalKeySigner(loadPrivateKey(keyFiles.audit)),
    origin: 'charter.test/gateway',
  });
  const approvalsDir = join(home, 'approvals');
  const approversFile = join(home, 'approvers.yaml');
  writeFileAtomic(approversFile, FIXTURE_APPROVERS);
  const reopen = (o: ReopenOptions = {}) =>
    openDecisionPath({
      manifestFiles: [o.manifestFile ?? manifestFile],
      trustedKeysFile,
      entitiesFile: o.entitiesFile ?? opts.entitiesFile ?? FIXTURE_ENTITIES,
      approversFile: o.approversFile ?? approversFile,
      audit,
      approvalsDir,
      mode: o.mode ?? opts.mode ?? 'ENFORCE',
    });
  return {
    home,
    trustedKeysFile,
    approversFile,
    manifestFile,
    manifestDigest: compiled.digest,
    approvals: new ApprovalStore(approvalsDir),
    audit,
    path: reopen(),
    key: (name) => loadPrivateKey(keyFiles[name]),
    approver: (name) => {
      const key = loadPrivateKey(keyFiles[name]);
      return localApprover(name, key);
    },
    identity: (tenant, agentId = agent) => ({ principal: `user-${tenant}`, tenantId: tenant, agentId }),
    reopen,
    close: async () => {
      await audit.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface HttpGateway {
  idp: JwksServer;
  upstream: ToolServer;
  pool: UpstreamPool;
  gateway: LoopbackMcp;
  /** Stops gateway, pool, upstream and identity provider (not the harness). */
  close(): Promise<void>;
}

/**
 * The harness's decision path served over MCP HTTP: a JWKS identity provider, one upstream tool
 * server for `tools`, bound to those tools' actions in `namespace`, and the gateway in front.
 */
export async function serveOverHttp(h: GatewayHarness, namespace: string, tools: string[]): Promise<HttpGateway> {
  const idp = await startJwksServer();
  const upstream = await startToolServer(tools);
  const pool = new UpstreamPool(Object.fromEntries(tools.map((t) => [upstreamAction(namespace, t), upstream.url])));
  const gateway = await serveGatewayHttp(
    h.path,
    pool,
    IdentityVerifier.fromConfig({ jwks: idp.url, issuer: idp.issuer, audience: idp.audience }),
  );
  return {
    idp,
    upstream,
    pool,
    gateway,
    close: async () => {
      await gateway.close();
      await pool.close();
      await upstream.close();
      await idp.close();
    },
  };
}
