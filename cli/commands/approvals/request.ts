import type { Command } from 'commander';
import { InputError, parseJson, readText } from '../../../common/index.js';
import { digestJson } from '../../../signing/index.js';
import { RiskTier } from '../../../audit/index.js';
import { declaredAgents, knownId } from '../../../gateway/index.js';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { print, store, withDir, type StoreOpts } from './shared.js';

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

interface RequestOpts extends StoreOpts {
  tenant: string;
  agent: string;
  tool: string;
  tier?: string;
  args: string;
  as: string;
  ttl: string;
  packs?: string;
}

export function registerRequest(approvals: Command): void {
  const cmd = withDir(
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
  );
  withExamples(cmd, [
    `charter approvals request --tenant acme --agent strategic-partnership --tool propose_partnership_terms --args '{"bidId":"b1","amountCents":900000,"termMonths":24}'`,
  ]).action(
    action((opts: RequestOpts) => {
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
    }),
  );
}
