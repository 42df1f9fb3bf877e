import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError } from '../../common/index.js';
import { ApprovalStore, KillSwitchFile, type SwitchKind } from '../../gateway/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';

interface SwitchOpts {
  home?: string;
  tenant?: string;
  agent?: string;
  as: string;
  reason: string;
  json?: boolean;
}

function target(opts: SwitchOpts): { kind: SwitchKind; id: string } {
  if (Boolean(opts.tenant) === Boolean(opts.agent))
    throw new InputError('name exactly one of --tenant or --agent', { field: opts.tenant ? '--agent' : '--tenant' });
  return opts.tenant ? { kind: 'tenant', id: opts.tenant } : { kind: 'agent', id: opts.agent! };
}

export function registerKillSwitch(program: Command): void {
  const ks = program
    .command('killswitch')
    .description(
      "suspend a tenant or an agent at once: every tool call for it is denied (base.suspended-tenant, base.suspended-agent) from the gateway's next decision",
    );
  const change = (verb: 'engage' | 'release', description: string) =>
    withJson(
      ks
        .command(verb)
        .description(description)
        .option('--tenant <tenant>', 'the tenant')
        .option('--agent <agent>', 'the agent')
        .requiredOption('--as <name>', 'who acts (recorded in the audit trail)')
        .requiredOption('--reason <text>', 'why (recorded in the audit trail)'),
    ).action(
      action((opts: SwitchOpts) => {
        const { kind, id } = target(opts);
        const home = opts.home ?? charterHome();
        const switches = KillSwitchFile.inHome(home);
        const evidence = switches[verb](kind, id, opts.as, opts.reason);
        // The audit log has one writer, the gateway: the record waits in its evidence outbox.
        new ApprovalStore(join(home, 'approvals')).evidence.put(evidence);
        if (opts.json) return printJson({ ok: true, kind, id, action: verb, evidenceId: evidence.id });
        printLine(`${kind} '${id}': kill switch ${verb === 'engage' ? 'engaged' : 'released'} (${switches.file})`);
        printLine('  evidence queued in the approvals folder; the gateway appends it to the audit trail');
      }),
    );
  change('engage', 'engage the kill switch of a tenant or an agent');
  change('release', 'release an engaged kill switch');

  withJson(ks.command('list').description('the engaged kill switches')).action(
    action((opts: { home?: string; json?: boolean }) => {
      const doc = KillSwitchFile.inHome(opts.home ?? charterHome()).read();
      const rows = (['tenant', 'agent'] as const).flatMap((kind) =>
        Object.entries(doc[kind === 'tenant' ? 'tenants' : 'agents']).map(([id, e]) => ({ kind, id, ...e })),
      );
      if (opts.json) return printJson({ ok: true, engaged: rows });
      printTable(
        ['kind', 'id', 'since', 'by', 'reason'],
        rows.map((r) => [r.kind, r.id, r.at, r.by, r.reason]),
      );
    }),
  );
}
