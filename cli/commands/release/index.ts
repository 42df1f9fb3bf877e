import type { Command } from 'commander';
import { registerApprove } from './approve.js';
import { registerCheck } from './check.js';
import { registerDeploy } from './deploy.js';
import { registerPromote } from './promote.js';
import { registerRollback } from './rollback.js';
import { registerStatus } from './status.js';
import { registerTerraform } from './terraform.js';

/** `charter release <verb>`: one file per verb in this folder. */
export function registerRelease(program: Command): void {
  const release = program
    .command('release')
    .description('evidence-based promotion dev -> stg -> prod, rollback and approvals of signed agent manifests');
  for (const register of [
    registerCheck,
    registerPromote,
    registerRollback,
    registerApprove,
    registerStatus,
    registerDeploy,
    registerTerraform,
  ])
    register(release);
}
