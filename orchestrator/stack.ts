import {
  DEFAULT_SUPPLIER_CLIENT,
  procurementTools,
  inProcessTools,
  SupplierClient,
  type AgentManifestView,
  type ConfigStore,
  type ModelClients,
  type SupplierClientOptions,
} from '../agents/index.js';
import { InputError, observeApprovalQueue } from '../common/index.js';
import {
  DecisionPath,
  DEFAULT_UPSTREAM_GUARD,
  NO_KILL_SWITCHES,
  upstreamAction,
  UpstreamPool,
  withKillSwitches,
  type ApprovalStore,
  type ApproverDirectory,
  type KillSwitchState,
  type UpstreamGuardOptions,
  type DecisionPathOptions,
  type DecisionSink,
} from '../gateway/index.js';
import { startAgentProcesses, type AgentProcesses, type AgentProcessOptions } from './agent-processes.js';
import type { EnforcementMode } from '../audit/index.js';
import type { Signer, TrustedKeysFile } from '../signing/index.js';
import { NegotiationEntities } from './entities.js';
import { OrchestratorLedger } from './ledger.js';
import { LocalAgents } from './local-agents.js';
import { Orchestrator, type AgentDispatcher, type NegotiationEvent, type SupplierDirectory } from './orchestrator.js';
import type { PriceTable } from './prices.js';
import type { NodeRetry } from './retry.js';
import { DynamoNegotiationStore, type DynamoStoreOptions } from './dynamo-store.js';
import type { RunnerStore } from './runner-store.js';
import { NegotiationStore } from './store.js';

export interface ProcurementStackOptions {
  /** SQLite file of negotiations, checkpoints, bids and costs (`:memory:` for a throwaway run). */
  dbFile: string;
  /**
   * Keep the coordination state (negotiations, checkpoints, admission slots, leases, bids and
   * documents) in DynamoDB tables shared with other runners; `dbFile` then holds this runner's copy
   * of what it runs, and its costs and classification cache. Default: all of it in `dbFile`.
   */
  dynamo?: Omit<DynamoStoreOptions, 'capacity'>;
  /** Verified manifests of the eight agents (loadVerifiedManifest results). */
  manifests: DecisionPathOptions['manifests'];
  /** Keys trusted for `approval` (approver keys) and `agent-envelope` (the orchestrator's, named `charter-orchestrator`). */
  trustedKeys: TrustedKeysFile;
  /**
   * The orchestrator's `agent-envelope` key (INVOCATION_ENVELOPE.keyFile): every invocation of
   * an agent, in process or in its own process, carries an envelope it signed.
   */
  envelopeSigner: Signer;
  audit: DecisionSink;
  approvals: ApprovalStore;
  /** Who may approve what (the home's approvers.yaml); none: every approval is refused. */
  approvers?: ApproverDirectory;
  config: ConfigStore;
  /** Suspended tenants and agents (default: none, for stacks without a store, e.g. tests). */
  killSwitches?: KillSwitchState;
  directory: SupplierDirectory;
  /** The suppliers' MCP server (e.g. SupplierNetwork.serve()). */
  supplierUrl: string;
  supplierClient?: SupplierClientOptions;
  /** The gateway's guard on the procurement tool server (default: 64 calls in flight per tenant, 30 s). */
  upstreamGuard?: Partial<UpstreamGuardOptions>;
  /** Negotiations ACTIVE at once across tenants (admission control). */
  capacity?: number;
  mode?: EnforcementMode;
  /** Where the agents' models are reached (default: the AWS settings, OPENAI_BASE_URL). */
  models?: ModelClients;
  /** Replace the in-process agents (e.g. agents on AgentCore Runtime). */
  agents?: (local: LocalAgents) => AgentDispatcher;
  /** Run each agent as its own process, reaching the gateway over MCP (HTTP) with per-invocation tokens. */
  agentProcesses?: AgentProcessOptions;
  onEvent?: (e: NegotiationEvent) => void;
  warn?: (message: string) => void;
  now?: () => number;
  /** Retries of a node whose allowed tool call failed (default NODE_RETRY, as the Step Functions export). */
  retry?: NodeRetry;
  /** Prices usage is booked at (the home's prices.yaml); none: costs are counted, not priced. */
  prices?: PriceTable;
}

export interface ProcurementStack {
  orchestrator: Orchestrator;
  /** The SQLite store: all the state (embedded), or this runner's copy of it (DynamoDB). */
  store: NegotiationStore;
  /** What the runner coordinates through: `store` itself, or the DynamoDB store over it. */
  runnerStore: RunnerStore;
  path: DecisionPath;
  local: LocalAgents;
  /** Set when the agents run as processes: their supervisor, the gateway URL and the identity issuer. */
  processes?: AgentProcesses;
  close(): Promise<void>;
}

/**
 * Wires the reference workload: the orchestrator's store, the gateway decision path over the
 * live negotiation entities, the procurement tools as the gateway's upstream, and the eight
 * agents reaching those tools only through the gateway.
 */
export async function openProcurementStack(opts: ProcurementStackOptions): Promise<ProcurementStack> {
  if (opts.agents && opts.agentProcesses)
    throw new InputError('give either agents or agentProcesses, not both', { field: 'agentProcesses' });
  const store = new NegotiationStore(opts.dbFile, opts.capacity);
  const runnerStore: RunnerStore = opts.dynamo ? new DynamoNegotiationStore({ ...opts.dynamo, capacity: store.capacity }, store) : store;
  const ledger = new OrchestratorLedger(runnerStore, opts.directory);
  const path = new DecisionPath({
    manifests: opts.manifests,
    data: withKillSwitches(new NegotiationEntities(ledger, opts.config), opts.killSwitches ?? NO_KILL_SWITCHES),
    audit: opts.audit,
    approvals: opts.approvals,
    trustedKeys: opts.trustedKeys,
    ...(opts.approvers ? { approvers: opts.approvers } : {}),
    ...(opts.mode ? { mode: opts.mode } : {}),
  });
  const suppliers = new SupplierClient(opts.supplierUrl, opts.supplierClient ?? DEFAULT_SUPPLIER_CLIENT);
  // One upstream serves every procurement tool, so a tenant's bulkhead covers all its
  // negotiations' calls at once (fan-out tools hold a slot while they gather quotes). The tools
  // live in this process: the gateway calls them directly (after its decision, under the
  // guard), not over loopback HTTP. Agent processes still reach the gateway over HTTP.
  const table = procurementTools(suppliers, ledger);
  const tools = inProcessTools('charter-procurement-tools', table);
  const upstreams = new UpstreamPool(Object.fromEntries(Object.keys(table).map((t) => [upstreamAction('Procurement', t), tools])), {
    ...DEFAULT_UPSTREAM_GUARD,
    maxConcurrent: 64,
    timeoutMs: 30_000,
    ...opts.upstreamGuard,
  });
  const manifests = new Map<string, AgentManifestView>(opts.manifests.map((m) => [m.manifest.agent.name, m]));
  const local = new LocalAgents(path, upstreams, {
    manifests,
    envelopes: { signer: opts.envelopeSigner, trustedKeys: opts.trustedKeys, audit: opts.audit },
    config: opts.config,
    ...(opts.models ? { models: opts.models } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  let processes: AgentProcesses | undefined;
  try {
    processes = opts.agentProcesses
      ? await startAgentProcesses(
          path,
          upstreams,
          opts.manifests,
          { trustedKeys: opts.trustedKeys, envelopes: opts.envelopeSigner, audit: opts.audit },
          {
            ...(opts.warn ? { warn: opts.warn } : {}),
            ...opts.agentProcesses,
          },
        )
      : undefined;
  } catch (err) {
    await Promise.allSettled([local.close(), suppliers.close()]);
    if (runnerStore !== store) await runnerStore.close();
    store.close();
    throw err;
  }
  const orchestrator = new Orchestrator({
    store: runnerStore,
    agents: processes?.dispatcher ?? (opts.agents ? opts.agents(local) : local),
    config: opts.config,
    approvals: opts.approvals,
    suppliers: opts.directory,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.prices ? { prices: opts.prices } : {}),
  });
  // The approval queue's age and size, read when metrics are collected (nothing while they are off).
  const unobserve = observeApprovalQueue(() => opts.approvals.queues());
  return {
    orchestrator,
    store,
    runnerStore,
    path,
    local,
    ...(processes ? { processes } : {}),
    async close() {
      unobserve();
      await processes?.close();
      await local.close();
      await suppliers.close();
      if (runnerStore !== store) await runnerStore.close();
      store.close();
    },
  };
}
