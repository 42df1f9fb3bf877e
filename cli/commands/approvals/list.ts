import type { Command } from 'commander';
import { printJson, printTable } from '../../output.js';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { withoutTokens } from '../../../gateway/index.js';
import { store, withDir, type StoreOpts } from './shared.js';

export function registerList(approvals: Command): void {
  const cmd = withDir(
    approvals.command('list').description('list requests').option('--status <status>', 'only pending, approved, denied or expired'),
  );
  withExamples(cmd, ['charter approvals list --status pending']).action(
    action((opts: StoreOpts & { status?: string }) => {
      const requests = store(opts);
      const all = requests
        .list()
        .filter((r) => !opts.status || r.status === opts.status)
        .map((r) => ({ ...withoutTokens(r), remindedAt: requests.remindedAt(r.id) ?? null }));
      if (opts.json) return printJson({ ok: true, requests: all });
      printTable(
        ['id', 'status', 'tenant', 'agent', 'tool', 'tier', 'approvals', 'expires', 'reminded'],
        all.map((r) => [
          r.id,
          r.status,
          r.tenant,
          r.agent,
          r.tool,
          r.tier,
          `${r.approvals.length}/${r.required}`,
          r.expiresAt,
          r.remindedAt,
        ]),
      );
    }),
  );
}
