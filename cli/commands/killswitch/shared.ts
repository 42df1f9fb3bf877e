import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, compiledManifestAgents, InputError } from '../../../common/index.js';
import { ApprovalStore, KillSwitchFile, type SwitchKind } from '../../../gateway/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { approverFromKey, declaredAgents, knownId, knownTenants } from '../operator-input.js';

interface SwitchOpts {
  home?: string;
  tenant?: string;
  agent?: string;
  key: string;
  trustedKeys?: string;
  as?: string;
  packs?: string;
  reason: string;
  json?: boolean;
}

/**
 * The switch an operator names, normalised and checked: a tenant of the home's tenants.yaml, or
 * an agent declared by the packs or compiled in the home. An unknown id is an error listing the
 * known ones, never a switch that guards nothing.
 */
function target(opts: SwitchOpts, home: string): { kind: SwitchKind; id: string } {
  if (Boolean(opts.tenant) === Boolean(opts.agent))
    throw new InputError('name exactly one of --tenant or --agent', { field: opts.tenant ? '--agent' : '--tenant' });
  if (opts.tenant) return { kind: 'tenant', id: knownId('tenant', opts.tenant, knownTenants(home), '--tenant') };
  const agents = [...new Set([...declaredAgents(opts.packs).keys(), ...compiledManifestAgents(home)])].sort();
  return { kind: 'agent', id: knownId('agent', opts.agent!, agents, '--agent') };
}

/** engage and release: the same flags and steps, signed by the operator, the evidence queued for the gateway. */
export function registerChange(ks: Command, verb: 'engage' | 'release', description: string): void {
  withJson(
    ks
      .command(verb)
      .description(description)
      .option('--tenant <tenant>', 'the tenant (one of tenants.yaml; case is ignored)')
      .option('--agent <agent>', 'the agent (declared by the packs or compiled in the home)')
      .requiredOption(
        '--key <file>',
        verb === 'engage'
          ? 'your private key, trusted for operator or approval: you are its name, and it signs the evidence'
          : 'your approval key: releasing a switch is a signed approval',
      )
      .option('--trusted-keys <file>', 'trusted keys naming your key (default <home>/keys/trusted-keys.json)')
      .option('--as <name>', "optional cross-check: must be your key's name in the trusted-keys file")
      .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
      .option('--packs <dir>', 'packs folder declaring the agents (default: the shipped packs)'),
  ).action(
    action(async (opts: SwitchOpts) => {
      const home = opts.home ?? charterHome();
      const { kind, id } = target(opts, home);
      const actor = approverFromKey(opts.key, { ...opts, home }, verb === 'engage' ? ['operator', 'approval'] : ['approval']);
      const switches = KillSwitchFile.inHome(home);
      // The audit log has one writer, the gateway: the record waits, signed, in its evidence outbox.
      const outbox = new ApprovalStore(join(home, 'approvals')).evidence;
      const evidence = await switches[verb](kind, id, actor.name, opts.reason, { seal: (e) => outbox.put(e, actor.signer) });
      if (opts.json) return printJson({ ok: true, kind, id, action: verb, by: actor.name, evidenceId: evidence.id });
      printLine(`${kind} '${id}': kill switch ${verb === 'engage' ? 'engaged' : 'released'} (${switches.file})`);
      printLine('  evidence queued in the approvals folder; the gateway appends it to the audit trail');
    }),
  );
}
