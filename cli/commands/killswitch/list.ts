import type { Command } from 'commander';
import { charterHome } from '../../../common/index.js';
import { KillSwitchFile } from '../../../gateway/index.js';
import { printJson, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';

export function registerList(ks: Command): void {
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
