import type { Command } from 'commander';
import { currentRelease, parseEnvironment, releaseContext } from '../../../release-gates/index.js';
import { printJson, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';

export function registerStatus(release: Command): void {
  withJson(
    release.command('status').description('the current release of every agent in an environment, verified (signature and history chain)'),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action((o: { env: string; trustedKeys?: string; json?: boolean }) => {
        const env = parseEnvironment(o.env);
        const ctx = releaseContext(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
        const rows = ctx.store.agents(env).map((agent) => {
          const cur = currentRelease(ctx, env, agent)!;
          const r = cur.record.record;
          return {
            agent,
            action: r.action,
            manifestDigest: r.manifestDigest,
            recordDigest: cur.record.digest,
            releasedAt: r.releasedAt,
            releasedBy: r.releasedBy,
          };
        });
        if (o.json) return printJson({ ok: true, environment: env, releases: rows });
        printTable(
          ['agent', 'last action', 'manifest', 'released at', 'by'],
          rows.map((r) => [r.agent, r.action, r.manifestDigest, r.releasedAt, r.releasedBy]),
        );
      }),
    );
}
