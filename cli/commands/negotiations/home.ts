import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_NAMES, INVOCATION_ENVELOPE, StaticConfigStore, type ConfigStore, type RunningServer } from '../../../agents/index.js';
import { openHomeAuditLog, type AuditLog } from '../../../audit/index.js';
import { BREAKERS, errorMessage, FindingError, InputError } from '../../../common/index.js';
import {
  ApprovalStore,
  ApproverDirectory,
  BreakerFile,
  KillSwitchFile,
  recordBreakerChanges,
  withKillSwitches,
  type DecisionData,
} from '../../../gateway/index.js';
import { loadReleasedManifest, type ReleasedManifest } from '../../../release-gates/index.js';
import {
  homeStoreOptions,
  loadPriceTable,
  NegotiationEntities,
  NegotiationStore,
  OrchestratorLedger,
  openProcurementStack,
  referenceWorld,
  type ProcurementStack,
  type ProcurementStackOptions,
} from '../../../orchestrator/index.js';
import { loadPrivateKey, loadTrustedKeys, LocalKeySigner } from '../../../signing/index.js';

/** The simulated world a home runs against: which tenants, their supplier latency and thresholds. */
export interface HomeWorld {
  tenants: string[];
  latencyMs?: number;
  spendThresholdCents?: Record<string, number>;
  /** An external supplier server (`charter negotiations suppliers`); default: simulated in process. */
  suppliersUrl?: string;
  /** The environment whose released manifests serve: the runtime loads nothing unreleased. */
  env: string;
}

export interface HomeStack {
  stack: ProcurementStack;
  audit: AuditLog;
  approvals: ApprovalStore;
  close(): Promise<void>;
}

/**
 * The eight agents' current releases in an environment, each record and manifest verified
 * (loadReleasedManifest). An agent with no valid release stops the runtime from starting.
 */
function releasedManifests(home: string, env: string, trustedKeysFile: string): ReleasedManifest[] {
  const loaded = AGENT_NAMES.map((agent) => {
    try {
      return loadReleasedManifest(env, agent, { home, trustedKeysFile });
    } catch (err) {
      return errorMessage(err);
    }
  });
  const problems = loaded.filter((m): m is string => typeof m === 'string');
  if (problems.length)
    throw new FindingError(
      `the runtime loads only released manifests: ${[...new Set(problems)].join('; ')} (charter release promote --env ${env} --all)`,
    );
  return loaded as ReleasedManifest[];
}

/**
 * Opens the procurement stack on a Charter home: the eight manifests released to the world's
 * environment (release records and manifests verified before use), the audit log signed with
 * the home's audit key, the shared approvals folder, and the negotiation store under `orchestrator/`.
 */
export async function openHomeStack(home: string, world: HomeWorld, extra: Partial<ProcurementStackOptions> = {}): Promise<HomeStack> {
  // Every file is read before anything is opened: a bad tenants.yaml fails first, with nothing to close.
  const config: ConfigStore | undefined = existsSync(join(home, 'tenants.yaml'))
    ? StaticConfigStore.fromFile(join(home, 'tenants.yaml'))
    : undefined;
  const trustedFile = join(home, 'keys', 'trusted-keys.json');
  const manifests = releasedManifests(home, world.env, trustedFile);
  // Likewise a malformed prices.yaml, and a bad store setting.
  const prices = loadPriceTable(home);
  const dynamo = homeStoreOptions(home, world.tenants);
  const envelopeKey = INVOCATION_ENVELOPE.keyFile(home);
  if (!existsSync(envelopeKey))
    throw new InputError(
      `no orchestrator envelope key: every agent invocation is signed with it (charter keys generate --name ${INVOCATION_ENVELOPE.sender} --purpose agent-envelope)`,
      { file: envelopeKey },
    );
  const trustedKeys = loadTrustedKeys(trustedFile);
  const approvers = ApproverDirectory.inHome(home, trustedKeys);
  const auditSigner = new LocalKeySigner(loadPrivateKey(join(home, 'keys', 'audit.key.pem')));
  const envelopeSigner = new LocalKeySigner(loadPrivateKey(envelopeKey));
  const w = referenceWorld({
    tenants: world.tenants,
    ...(world.latencyMs !== undefined ? { latencyMs: world.latencyMs } : {}),
    ...(world.spendThresholdCents ? { spendThresholdCents: world.spendThresholdCents } : {}),
  });
  // What is opened is closed again when a later step fails: the supplier server would keep the
  // process alive, and the audit log's lock would keep every other command off the home.
  let suppliers: RunningServer | undefined;
  let audit: AuditLog | undefined;
  let stopRecording: (() => void) | undefined;
  try {
    const supplierUrl = world.suppliersUrl ?? (suppliers = await w.network.serve()).url;
    audit = await openHomeAuditLog({ home, signer: auditSigner, origin: 'charter.local/audit' });
    const warn = (m: string) => process.stderr.write(`charter: warning: ${m}\n`);
    // Every breaker of this process (upstreams, suppliers, models, agent runtimes, the S3 sink) that trips or recovers is recorded.
    stopRecording = recordBreakerChanges(BREAKERS, { audit, file: BreakerFile.inHome(home), warn });
    const approvals = new ApprovalStore(join(home, 'approvals'));
    const stack = await openProcurementStack({
      dbFile: join(home, 'orchestrator', 'negotiations.sqlite'),
      ...(dynamo ? { dynamo } : {}),
      manifests,
      trustedKeys,
      approvers,
      envelopeSigner,
      audit,
      approvals,
      config: config ?? w.config,
      killSwitches: KillSwitchFile.inHome(home),
      directory: w.directory,
      supplierUrl,
      warn,
      ...(prices ? { prices } : {}),
      ...extra,
    });
    const opened = audit;
    const stop = stopRecording;
    return {
      stack,
      audit: opened,
      approvals,
      async close() {
        await stack.close();
        stop();
        await opened.close();
        await suppliers?.close();
      },
    };
  } catch (err) {
    stopRecording?.();
    await Promise.allSettled([audit?.close(), suppliers?.close()]);
    throw err;
  }
}

/**
 * The negotiation store of a home: `<home>/orchestrator/negotiations.sqlite` (the embedded
 * default). With `ifExists`, undefined when the home has none yet.
 */
export function openHomeNegotiationStore(home: string, opts: { ifExists?: boolean } = {}): NegotiationStore | undefined {
  const file = join(home, 'orchestrator', 'negotiations.sqlite');
  if (opts.ifExists && !existsSync(file)) return undefined;
  return new NegotiationStore(file);
}

/**
 * The procurement reference's entity data as the gateway decided over it, read from a home: its
 * negotiation store and the tenants of its tenants.yaml. Release replay evaluates recorded
 * decisions over it (`charter release check --live-entities`).
 */
export function homeDecisionData(home: string): DecisionData {
  const tenantsFile = join(home, 'tenants.yaml');
  if (!existsSync(tenantsFile))
    throw new InputError('no tenants.yaml in the Charter home: the negotiation world to replay over is unknown', { file: tenantsFile });
  const config = StaticConfigStore.fromFile(tenantsFile);
  const world = referenceWorld({ tenants: config.tenants() });
  // Opened for the life of the command: release checks read it while they replay.
  const store = openHomeNegotiationStore(home)!;
  return withKillSwitches(new NegotiationEntities(new OrchestratorLedger(store, world.directory), config), KillSwitchFile.inHome(home));
}
