import type { Command } from 'commander';
import { printJson, printTable } from '../../output.js';
import { action } from '../../program.js';
import { onHome, withWorld, type HomeFlags } from './shared.js';

export function registerCosts(cmd: Command): void {
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
}
