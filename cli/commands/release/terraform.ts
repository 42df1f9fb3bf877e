import type { Command } from 'commander';
import { writeFileAtomic } from '../../../common/index.js';
import { releaseTerraform } from '../../../release-gates/index.js';
import { action } from '../../program.js';
import { agentCoreOptions, settingsFrom, type AgentCoreOpts } from './agentcore.js';

export function registerTerraform(release: Command): void {
  agentCoreOptions(
    release.command('terraform').description('emit Terraform (HCL) for the AgentCore resources of every agent released in an environment'),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--out <file>', 'write the HCL here instead of stdout')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action((o: AgentCoreOpts & { env: string; out?: string; trustedKeys?: string }) => {
        const hcl = releaseTerraform(o.env, settingsFrom(o), o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
        if (o.out) writeFileAtomic(o.out, hcl);
        else process.stdout.write(hcl);
      }),
    );
}
