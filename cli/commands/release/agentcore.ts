import type { Command } from 'commander';
import { InputError } from '../../../common/index.js';
import type { AgentCoreSettings } from '../../../release-gates/index.js';

/** The AgentCore settings deploy and terraform share. */
export interface AgentCoreOpts {
  roleArn: string;
  containerUri: string;
  discoveryUrl: string;
  audience: string[];
  toolsUrl: string;
  auditBucket: string;
  mode: string;
}

export function agentCoreOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--role-arn <arn>', 'IAM role the gateway and the agent runtime assume')
    .requiredOption('--container-uri <uri>', 'agent container image; {agent} is replaced by the agent name')
    .requiredOption('--discovery-url <url>', 'OIDC discovery URL of the identity provider that issues agent tokens')
    .option('--audience <aud...>', 'allowed token audiences', ['charter-gateway'])
    .requiredOption(
      '--tools-url <url>',
      "Charter gateway's MCP endpoint, where every AgentCore gateway target forwards (one target per tool namespace)",
    )
    .option(
      '--audit-bucket <name>',
      'S3 Object Lock bucket of the audit trail (pool tenants share it; a silo tenant may name its own)',
      'charter-audit',
    )
    .option('--mode <mode>', 'policy engine mode on the gateway: ENFORCE or LOG_ONLY', 'ENFORCE');
}

export function settingsFrom(o: AgentCoreOpts): AgentCoreSettings {
  if (!URL.canParse(o.toolsUrl)) throw new InputError(`--tools-url must be a URL, got '${o.toolsUrl}'`, { field: '--tools-url' });
  if (o.mode !== 'ENFORCE' && o.mode !== 'LOG_ONLY')
    throw new InputError(`--mode must be ENFORCE or LOG_ONLY, got '${o.mode}'`, { field: '--mode' });
  return {
    roleArn: o.roleArn,
    containerUri: o.containerUri,
    discoveryUrl: o.discoveryUrl,
    allowedAudience: o.audience,
    toolsUrl: o.toolsUrl,
    auditBucket: o.auditBucket,
    mode: o.mode,
  };
}
