import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  AGENT_NAMES,
  describeProducer,
  INVOCATION_ENVELOPE,
  StaticConfigStore,
  type ConfigStore,
  type RunningServer,
} from '../../agents/index.js';
import { openHomeAuditLog, type AuditLog } from '../../audit/index.js';
import { charterHome, errorMessage, FindingError, InputError, readJson, writeFileAtomic } from '../../common/index.js';
import { ApprovalStore, KillSwitchFile, withKillSwitches, type DecisionData } from '../../gateway/index.js';
import { loadReleasedManifest, type ReleasedManifest } from '../../release-gates/index.js';
import {
  exportAsl,
  NegotiationEntities,
  NegotiationStore,
  NODE_LABEL,
  OrchestratorLedger,
  openProcurementStack,
  referenceWorld,
  sampleRequisition,
  validateAsl,
  type NegotiationEvent,
  type NegotiationState,
  type ProcurementStack,
  type ProcurementStackOptions,
} from '../../orchestrator/index.js';
import { loadPrivateKey, loadTrustedKeys, LocalKeySigner } from '../../signing/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';
import { z } from 'zod';

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
  const trustedFile = join(home, 'keys', 'trusted-keys.json');
  const manifests = releasedManifests(home, world.env, trustedFile);
  const envelopeKey = INVOCATION_ENVELOPE.keyFile(home);
  if (!existsSync(envelopeKey))
    throw new InputError(
      `no orchestrator envelope key: every agent invocation is signed with it (charter keys generate --name ${INVOCATION_ENVELOPE.sender} --purpose agent-envelope)`,
      { file: envelopeKey },
    );
  const w = referenceWorld({
    tenants: world.tenants,
    ...(world.latencyMs !== undefined ? { latencyMs: world.latencyMs } : {}),
    ...(world.spendThresholdCents ? { spendThresholdCents: world.spendThresholdCents } : {}),
  });
  let suppliers: RunningServer | undefined;
  const supplierUrl = world.suppliersUrl ?? (suppliers = await w.network.serve()).url;
  const audit = await openHomeAuditLog({
    home,
    signer: new LocalKeySigner(loadPrivateKey(join(home, 'keys', 'audit.key.pem'))),
    origin: 'charter.local/audit',
  });
  const approvals = new ApprovalStore(join(home, 'approvals'));
  const config: ConfigStore = existsSync(join(home, 'tenants.yaml')) ? StaticConfigStore.fromFile(join(home, 'tenants.yaml')) : w.config;
  const stack = await openProcurementStack({
    dbFile: join(home, 'orchestrator', 'negotiations.sqlite'),
    manifests,
    trustedKeys: loadTrustedKeys(trustedFile),
    envelopeSigner: new LocalKeySigner(loadPrivateKey(envelopeKey)),
    audit,
    approvals,
    config,
    killSwitches: KillSwitchFile.inHome(home),
    directory: w.directory,
    supplierUrl,
    warn: (m) => process.stderr.write(`charter: warning: ${m}\n`),
    ...extra,
  });
  return {
    stack,
    audit,
    approvals,
    async close() {
      await stack.close();
      await audit.close();
      await suppliers?.close();
    },
  };
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
  const store = new NegotiationStore(join(home, 'orchestrator', 'negotiations.sqlite'));
  return withKillSwitches(new NegotiationEntities(new OrchestratorLedger(store, world.directory), config), KillSwitchFile.inHome(home));
}

/** One progress line a node: what ran and what it decided. */
export function progressLine(e: NegotiationEvent): string {
  return `  [${e.tenantId}/${e.negotiationId}] ${NODE_LABEL[e.node].padEnd(20)} ${e.status.padEnd(18)} ${e.note} (${Math.round(e.ms)} ms)`;
}

export function summaryRow(n: NegotiationState): Array<string | number | null> {
  const award = n.evaluation?.output.award;
  return [
    n.tenantId,
    n.negotiationId,
    n.classification?.output.quadrant ?? null,
    n.route ? `${n.route.node} ${n.route.agent}` : null,
    n.strategy?.output.bids.length ?? null,
    award ? `${award.supplierId} ${(award.priceCents / 100).toFixed(2)}` : null,
    n.approval ? `${n.approval.mode}:${n.approval.status}` : null,
    n.status,
    n.classification ? describeProducer(n.classification.producedBy) : null,
  ];
}
export const SUMMARY_HEAD = ['tenant', 'negotiation', 'quadrant', 'strategy', 'bids', 'award', 'approval', 'status', 'produced by'];

const WorldFlags = z.object({
  tenant: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant ids are lower-case letters, digits and -'),
  latency: z.coerce.number().int().nonnegative().default(20),
  suppliersUrl: z.string().url().optional(),
  env: z.enum(['dev', 'stg', 'prod'], { message: 'environments are dev, stg and prod' }),
});

function worldOf(opts: { tenant: string; latency?: string; suppliersUrl?: string; env: string }): HomeWorld {
  const flags = WorldFlags.safeParse(opts);
  if (!flags.success) throw new InputError(flags.error.issues[0]!.message, { field: `--${String(flags.error.issues[0]!.path[0])}` });
  return {
    tenants: [flags.data.tenant],
    latencyMs: flags.data.latency,
    env: flags.data.env,
    ...(flags.data.suppliersUrl ? { suppliersUrl: flags.data.suppliersUrl } : {}),
  };
}

function withWorld(cmd: Command): Command {
  return withJson(
    cmd
      .requiredOption('--tenant <id>', 'the tenant (the validated tenant of every call)')
      .option('--latency <ms>', 'simulated supplier latency', '20')
      .option('--suppliers-url <url>', 'an external supplier MCP server (charter negotiations suppliers)')
      .option('--env <env>', 'the environment whose released manifests serve (dev, stg or prod)', 'dev'),
  );
}

const AGENT_PROCESSES_HELP =
  'run each agent as its own process (charter agents serve), calling the gateway over MCP with per-invocation tokens';

type HomeFlags = {
  tenant: string;
  home?: string;
  latency?: string;
  suppliersUrl?: string;
  env: string;
  agentProcesses?: boolean;
  json?: boolean;
};

/** Opens the home's stack for one command and always closes it; progress lines unless --json. */
async function onHome(opts: HomeFlags, fn: (h: HomeStack) => Promise<number> | number): Promise<number> {
  const home = opts.home ?? charterHome();
  const h = await openHomeStack(home, worldOf(opts), {
    onEvent: (e) => !opts.json && printLine(progressLine(e)),
    ...(opts.agentProcesses ? { agentProcesses: { home } } : {}),
  });
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

function report(state: NegotiationState, json: boolean | undefined): number {
  if (json) printJson({ ok: true, negotiation: state });
  else printTable(SUMMARY_HEAD, [summaryRow(state)]);
  return 0;
}

export function registerNegotiations(program: Command): void {
  const cmd = program
    .command('negotiations')
    .description('the procurement reference: run, resume and inspect negotiations of the seven-node DAG');

  withWorld(cmd.command('run').description('submit a requisition (JSON file, or --sample N) and run it through the DAG'))
    .option('--file <requisition.json>', 'the purchase requisition')
    .option('--sample <n>', 'use the n-th sample requisition of the tenant instead of a file')
    .option('--agent-processes', AGENT_PROCESSES_HELP)
    .action(
      action(async (opts: HomeFlags & { file?: string; sample?: string }) => {
        if (Boolean(opts.file) === Boolean(opts.sample))
          throw new InputError('give exactly one of --file or --sample', { field: '--file' });
        const sample = z.coerce.number().int().nonnegative().safeParse(opts.sample);
        if (opts.sample && !sample.success)
          throw new InputError(`--sample must be a non-negative integer, got '${opts.sample}'`, { field: '--sample' });
        const requisition = opts.file ? readJson(opts.file, z.unknown()) : sampleRequisition(opts.tenant, sample.data!);
        return onHome(opts, async (h) => report(await h.stack.orchestrator.negotiate(opts.tenant, requisition), opts.json));
      }),
    );

  withWorld(
    cmd.command('resume').description('resume a negotiation from its last checkpoint (after a crash, or once an approval was given)'),
  )
    .requiredOption('--id <negotiationId>', 'the negotiation')
    .option('--agent-processes', AGENT_PROCESSES_HELP)
    .action(
      action((opts: HomeFlags & { id: string }) =>
        onHome(opts, async (h) => report(await h.stack.orchestrator.run(opts.tenant, opts.id), opts.json)),
      ),
    );

  withWorld(cmd.command('list').description("a tenant's negotiations and their status")).action(
    action((opts: HomeFlags) =>
      onHome(opts, (h) => {
        const all = h.stack.store.list({ tenantId: opts.tenant });
        if (opts.json) printJson({ ok: true, negotiations: all });
        else printTable(SUMMARY_HEAD, all.map(summaryRow));
        return 0;
      }),
    ),
  );

  withWorld(
    cmd
      .command('costs')
      .description('cost attribution: invocations, model calls, tokens and tool calls per tenant, negotiation, agent and model'),
  ).action(
    action((opts: HomeFlags) =>
      onHome(opts, (h) => {
        const rows = h.stack.store.costs({ tenantId: opts.tenant });
        if (opts.json) printJson({ ok: true, costs: rows });
        else
          printTable(
            ['negotiation', 'agent', 'model', 'invocations', 'model calls', 'tokens in', 'tokens out', 'tool calls'],
            rows.map((r) => [r.negotiationId, r.agent, r.model, r.invocations, r.modelCalls, r.inputTokens, r.outputTokens, r.toolCalls]),
          );
        return 0;
      }),
    ),
  );

  withJson(
    cmd.command('suppliers').description('serve simulated suppliers of the given tenants over MCP until interrupted (prints the URL)'),
  )
    .requiredOption('--tenants <ids>', 'comma-separated tenant ids')
    .option('--latency <ms>', 'quote latency of every supplier', '20')
    .option('--per-tenant <n>', 'suppliers per tenant', '8')
    .option('--port <port>', 'port (default: any free port)', '0')
    .action(
      action(async (opts: { tenants: string; latency: string; perTenant: string; port: string; json?: boolean }) => {
        const n = z
          .object({
            latency: z.coerce.number().int().nonnegative(),
            perTenant: z.coerce.number().int().min(1).max(500),
            port: z.coerce.number().int().min(0).max(65535),
          })
          .parse(opts);
        const world = referenceWorld({ tenants: opts.tenants.split(','), latencyMs: n.latency, suppliersPerTenant: n.perTenant });
        const server = await world.network.serve(n.port);
        if (opts.json) printJson({ ok: true, url: server.url });
        else printLine(server.url);
        await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
        await server.close();
      }),
    );

  withJson(cmd.command('asl').description('export the DAG as an AWS Step Functions state machine (ASL), checked by asl-validator'))
    .option('--out <file>', 'write the definition here (default stdout)')
    .action(
      action((opts: { out?: string; json?: boolean }) => {
        const definition = exportAsl();
        validateAsl(definition);
        const text = JSON.stringify(definition, null, 2) + '\n';
        if (opts.out) writeFileAtomic(opts.out, text);
        if (opts.json) printJson({ ok: true, valid: true, ...(opts.out ? { file: opts.out } : { definition }) });
        else if (opts.out) printLine(`valid ASL written to ${opts.out} (${Object.keys(definition.States).length} states)`);
        else process.stdout.write(text);
        return 0;
      }),
    );
}
