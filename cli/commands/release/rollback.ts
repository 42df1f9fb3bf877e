import type { Command } from 'commander';
import { rollback } from '../../../release-gates/index.js';
import { action, withJson } from '../../program.js';
import { printOutcome } from './report.js';
import { withWriter, writeOptions, type WriteOpts } from './shared.js';

export function registerRollback(release: Command): void {
  writeOptions(
    withJson(release.command('rollback').description('make the release before the current one current again (signed rollback record)')),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to roll back')
    .requiredOption('--reason <text>', 'why (kept in the signed record)')
    .option('--audit-dir <dir>', 'audit log folder (default $CHARTER_HOME/audit)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(
        async (o: WriteOpts & { env: string; agent: string; reason: string; auditDir?: string; trustedKeys?: string; json?: boolean }) => {
          const out = await withWriter(
            o,
            (w) => rollback(o.env, o.agent, { ...w, reason: o.reason, ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}) }),
            o.auditDir,
          );
          printOutcome('rolled back', out, o.json);
        },
      ),
    );
}
