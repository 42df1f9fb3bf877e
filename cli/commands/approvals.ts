import type { Command } from 'commander';
import { InputError, parseJson, readText } from '../../common/index.js';
import { digestJson } from '../../signing/index.js';
import { RiskTier } from '../../audit/index.js';
import { ApprovalStore, type ApprovalRequest } from '../../gateway/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';
import { approverFromKey, declaredAgents, knownId } from './operator-input.js';

interface StoreOpts {
  dir?: string;
  json?: boolean;
}

interface ApproverOpts {
  key: string;
  trustedKeys?: string;
  as?: string;
}

const store = (opts: StoreOpts) => new ApprovalStore(opts.dir);

/** Arguments as inline JSON or `@file`; they must be an object, exactly as the agent will call the tool. */
function parseArgs(text: string): Record<string, unknown> {
  const [source, body] = text.startsWith('@') ? [text.slice(1), readText(text.slice(1))] : ['--args', text];
  const value = parseJson(body, source);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InputError('tool arguments must be a JSON object', { file: source });
  return value as Record<string, unknown>;
}

/**
 * The agent and tool of a request must exist (an intent pack declares the agent, and the agent
 * holds the tool); the tier defaults to the tool's and may raise it, never lower it.
 */
function checkedCall(opts: { agent: string; tool: string; tier?: string; packs?: string }): {
  agent: string;
  tool: string;
  tier: RiskTier;
} {
  const agents = declaredAgents(opts.packs);
  const agent = knownId('agent', opts.agent, [...agents.keys()], '--agent');
  const tools = agents.get(agent)!.tools;
  const tool = tools.find((t) => t.name === opts.tool);
  if (!tool)
    throw new InputError(`agent '${agent}' has no tool '${opts.tool}': its tools are ${tools.map((t) => t.name).join(', ')}`, {
      field: '--tool',
    });
  if (opts.tier === undefined) return { agent, tool: tool.name, tier: tool.tier };
  const tier = RiskTier.safeParse(opts.tier);
  if (!tier.success) throw new InputError(`unknown tier '${opts.tier}' (${RiskTier.options.join(', ')})`, { field: '--tier' });
  if (RiskTier.options.indexOf(tier.data) < RiskTier.options.indexOf(tool.tier))
    throw new InputError(`tool '${tool.name}' is tier ${tool.tier}: a request cannot lower it to ${tier.data}`, { field: '--tier' });
  return { agent, tool: tool.name, tier: tier.data };
}

/** What an approver reviews; the tokens themselves are left out of human output. */
function summary(r: ApprovalRequest) {
  return { ...r, approvals: r.approvals.map(({ token: _token, ...a }) => a) };
}

function print(r: ApprovalRequest, json: boolean | undefined): void {
  if (json) return printJson({ ok: true, request: summary(r) });
  printLine(
    `${r.id}  ${r.status}  ${r.tenant}/${r.agent} ${r.tool} (${r.tier}, ${r.approvals.length}/${r.required} approvals)  expires ${r.expiresAt}`,
  );
  printLine(`  args ${JSON.stringify(r.args)}  (${r.argsDigest})`);
  for (const a of r.approvals) printLine(`  approved by ${a.approver} at ${a.at} (token ${a.tokenId})`);
  for (const d of r.denials) printLine(`  denied by ${d.approver} at ${d.at}: ${d.reason}`);
}

/** The audit log has one writer, the gateway: an approver's act reaches the trail through it. */
function evidenceQueued(json: boolean | undefined): void {
  if (!json) printLine('  evidence queued in the approvals folder; the gateway appends it to the audit trail');
}

export function registerApprovals(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('approval requests and signed, single-use approval tokens for write-high and critical tool calls');
  const withDir = (cmd: Command) => withJson(cmd.option('--dir <dir>', 'approvals folder (default $CHARTER_HOME/approvals)'));
  const withApprover = (cmd: Command) =>
    withDir(
      cmd
        .option('--trusted-keys <file>', 'trusted keys naming your key (default $CHARTER_HOME/keys/trusted-keys.json)')
        .option('--as <approver>', "optional cross-check: must be your key's name in the trusted-keys file"),
    );

  withDir(
    approvals
      .command('request')
      .description('open an approval request for one exact tool call')
      .requiredOption('--tenant <tenant>', 'tenant the call is for')
      .requiredOption('--agent <agent>', 'agent that will make the call')
      .requiredOption('--tool <tool>', 'tool name (one the agent holds)')
      .option('--tier <tier>', "tool tier (default the tool's own; may only raise it): write-high (one approver) or critical (two)")
      .requiredOption('--args <json>', 'tool arguments as JSON, or @file')
      .option('--as <requester>', 'who asks (never an approver of this request)', process.env.USER ?? 'cli')
      .option('--packs <dir>', 'packs folder declaring the agents (default: the shipped packs)')
      .option('--ttl <seconds>', 'how long the request and its tokens stay valid', '3600'),
  ).action(
    action(
      (
        opts: StoreOpts & {
          tenant: string;
          agent: string;
          tool: string;
          tier?: string;
          args: string;
          as: string;
          ttl: string;
          packs?: string;
        },
      ) => {
        const call = checkedCall(opts);
        const ttlSeconds = Number(opts.ttl);
        if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)
          throw new InputError('--ttl must be a positive number of seconds', { field: '--ttl' });
        const args = parseArgs(opts.args);
        const req = store(opts).request({
          tenant: opts.tenant,
          ...call,
          args,
          argsDigest: digestJson(args),
          requestedBy: opts.as,
          ttlSeconds,
        });
        print(req, opts.json);
      },
    ),
  );

  withApprover(
    approvals
      .command('approve <id>')
      .description('sign an approval token for a request with your own key; you are the name the trusted-keys file gives it')
      .requiredOption('--key <file>', 'your private key (PKCS#8 PEM), trusted for the approval purpose'),
  ).action(
    action(async (id: string, opts: StoreOpts & ApproverOpts) => {
      print(await store(opts).approve(id, approverFromKey(opts.key, opts)), opts.json);
      evidenceQueued(opts.json);
    }),
  );

  withApprover(
    approvals
      .command('deny <id>')
      .description('deny a request, signed with your own key; tokens already issued for it stop counting')
      .requiredOption('--key <file>', 'your private key (PKCS#8 PEM), trusted for the approval purpose')
      .requiredOption('--reason <text>', 'why'),
  ).action(
    action(async (id: string, opts: StoreOpts & ApproverOpts & { reason: string }) => {
      print(await store(opts).deny(id, approverFromKey(opts.key, opts), opts.reason), opts.json);
      evidenceQueued(opts.json);
    }),
  );

  withDir(approvals.command('show <id>').description('show one request')).action(
    action((id: string, opts: StoreOpts) => {
      print(store(opts).get(id), opts.json);
    }),
  );

  withDir(
    approvals.command('list').description('list requests').option('--status <status>', 'only pending, approved, denied or expired'),
  ).action(
    action((opts: StoreOpts & { status?: string }) => {
      const all = store(opts)
        .list()
        .filter((r) => !opts.status || r.status === opts.status);
      if (opts.json) return printJson({ ok: true, requests: all.map(summary) });
      printTable(
        ['id', 'status', 'tenant', 'agent', 'tool', 'tier', 'approvals', 'expires'],
        all.map((r) => [r.id, r.status, r.tenant, r.agent, r.tool, r.tier, `${r.approvals.length}/${r.required}`, r.expiresAt]),
      );
    }),
  );

  withDir(approvals.command('expire').description('mark every request past its expiry as expired')).action(
    action((opts: StoreOpts) => {
      const changed = store(opts).expire();
      if (opts.json) return printJson({ ok: true, expired: changed.map((r) => r.id) });
      printLine(`${changed.length} request(s) expired`);
    }),
  );
}
