import type { Command } from 'commander';
import { InputError } from '../../../common/index.js';
import type { AgentCoreSettings } from '../../../release-gates/index.js';

/** The AgentCore settings deploy and terraform share. */
export interface AgentCoreOpts {
  roleArn: string;
  containerUri: string;
  discoveryUrl: string;
  audience: string[];
  target: string;
  mode: string;
}

export function agentCoreOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--role-arn <arn>', 'IAM role the gateway and the agent runtime assume')
    .requiredOption('--container-uri <uri>', 'agent container image; {agent} is replaced by the agent name')
    .requiredOption('--discovery-url <url>', 'OIDC discovery URL of the identity provider that issues agent tokens')
    .option('--audience <aud...>', 'allowed token audiences', ['charter-gateway'])
    .option('--target <name>', 'gateway target that fronts the Charter gateway (tool actions are <target>___<tool>)', 'charter')
    .option('--mode <mode>', 'policy engine mode on the gateway: ENFORCE or LOG_ONLY', 'ENFORCE');
}

export function settingsFrom(o: AgentCoreOpts): AgentCoreSettings {
  if (o.mode !== 'ENFORCE' && o.mode !== 'LOG_ONLY')
    throw new InputError(`--mode must be ENFORCE or LOG_ONLY, got '${o.mode}'`, { field: '--mode' });
  return {
    roleArn: o.roleArn,
    containerUri: o.containerUri,
    discoveryUrl: o.discoveryUrl,
    allowedAudience: o.audience,
    targetName: o.target,
    mode: o.mode,
  };
}
