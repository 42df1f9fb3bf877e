import type { Command } from 'commander';
import { action } from '../../program.js';
import { AGENT_PROCESSES_HELP, onHome, report, withWorld, type HomeFlags } from './shared.js';

export function registerResume(cmd: Command): void {
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
}
