import type { Command } from 'commander';
import { charterHome } from '../../../common/index.js';
import { changeKillSwitch, KillSwitchFile, switchTarget } from '../../../gateway/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { approverFromKey } from '../operator-input.js';

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
      const { kind, id } = switchTarget(home, opts, opts.packs);
      const actor = approverFromKey(opts.key, { ...opts, home }, verb === 'engage' ? ['operator', 'approval'] : ['approval']);
      const evidence = await changeKillSwitch(home, verb, { kind, id }, actor, opts.reason);
      if (opts.json) return printJson({ ok: true, kind, id, action: verb, by: actor.name, evidenceId: evidence.id });
      printLine(`${kind} '${id}': kill switch ${verb === 'engage' ? 'engaged' : 'released'} (${KillSwitchFile.inHome(home).file})`);
      printLine('  evidence queued in the approvals folder; the gateway appends it to the audit trail');
    }),
  );
}
