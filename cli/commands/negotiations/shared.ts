import type { Command } from 'commander';
import { z } from 'zod';
import { describeProducer } from '../../../agents/index.js';
import { charterHome, InputError } from '../../../common/index.js';
import { NODE_LABEL, type NegotiationEvent, type NegotiationState } from '../../../orchestrator/index.js';
import { printJson, printLine, printTable } from '../../output.js';
import { withJson } from '../../program.js';
import { openHomeStack, type HomeStack, type HomeWorld } from './home.js';

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

const TenantId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant ids are lower-case letters, digits and -');
const WorldFlags = z.object({
  tenants: z.array(TenantId).min(1, 'give at least one tenant'),
  latency: z.coerce.number().int().nonnegative().default(20),
  suppliersUrl: z.string().url().optional(),
  env: z.enum(['dev', 'stg', 'prod'], { message: 'environments are dev, stg and prod' }),
});

/** The world of the given tenants from the world flags (--latency, --suppliers-url, --env); a bad value names its flag. */
export function worldOf(tenants: string[], opts: { latency?: string; suppliersUrl?: string; env: string }): HomeWorld {
  const flags = WorldFlags.safeParse({ ...opts, tenants });
  if (!flags.success) {
    const field = String(flags.error.issues[0]!.path[0]);
    throw new InputError(flags.error.issues[0]!.message, { field: field === 'tenants' ? '--tenant' : `--${field}` });
  }
  return {
    tenants: flags.data.tenants,
    latencyMs: flags.data.latency,
    env: flags.data.env,
    ...(flags.data.suppliersUrl ? { suppliersUrl: flags.data.suppliersUrl } : {}),
  };
}

/** The flags of the simulated world: supplier latency, an external supplier server, the environment. */
export function withWorldFlags(cmd: Command): Command {
  return withJson(
    cmd
      .option('--latency <ms>', 'simulated supplier latency', '20')
      .option('--suppliers-url <url>', 'an external supplier MCP server (charter negotiations suppliers)')
      .option('--env <env>', 'the environment whose released manifests serve (dev, stg or prod)', 'dev'),
  );
}

export function withWorld(cmd: Command): Command {
  return withWorldFlags(cmd.requiredOption('--tenant <id>', 'the tenant (the validated tenant of every call)'));
}

export const AGENT_PROCESSES_HELP =
  'run each agent as its own process (charter agents serve), calling the gateway over MCP with per-invocation tokens';

export type HomeFlags = {
  tenant: string;
  home?: string;
  latency?: string;
  suppliersUrl?: string;
  env: string;
  agentProcesses?: boolean;
  json?: boolean;
};

/** Opens the home's stack for one command and always closes it; progress lines unless --json. */
export async function onHome(
  opts: Omit<HomeFlags, 'tenant'> & { tenant?: string },
  fn: (h: HomeStack) => Promise<number> | number,
  world: HomeWorld = worldOf([opts.tenant!], opts),
): Promise<number> {
  const home = opts.home ?? charterHome();
  const h = await openHomeStack(home, world, {
    onEvent: (e) => !opts.json && printLine(progressLine(e)),
    ...(opts.agentProcesses ? { agentProcesses: { home } } : {}),
  });
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

/** One negotiation as it ended (or waits): its summary row, or its whole state with --json. */
export function report(state: NegotiationState, json: boolean | undefined): number {
  if (json) printJson({ ok: true, negotiation: state });
  else printTable(SUMMARY_HEAD, [summaryRow(state)]);
  return 0;
}
