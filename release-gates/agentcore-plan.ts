import { createHash } from 'node:crypto';
import { InputError } from '../common/index.js';
import type { ReleasedManifest } from './released-manifest.js';

export type GatewayPolicyMode = 'ENFORCE' | 'LOG_ONLY';

/** What a deploy needs besides the released manifest: the AWS-side identities and the image. */
export interface AgentCoreSettings {
  /** IAM role the gateway and the runtime assume. */
  roleArn: string;
  /** The agent's container image. */
  containerUri: string;
  /** OIDC discovery URL of the identity provider that issues agent tokens (CUSTOM_JWT authorizer). */
  discoveryUrl: string;
  allowedAudience: string[];
  /** The gateway target that fronts Charter's MCP gateway; AgentCore names tool actions `<target>___<tool>`. */
  targetName: string;
  mode: GatewayPolicyMode;
}

export interface PlannedPolicy {
  name: string;
  description: string;
  /** The Cedar statement in AgentCore's dialect, given how to write the gateway's ARN. */
  statement(gatewayArn: string): string;
}

/** The AgentCore resources of one agent's release in one environment. */
export interface AgentCorePlan {
  environment: string;
  agent: string;
  manifestDigest: string;
  recordDigest: string;
  policyEngine: { name: string; description: string };
  gateway: { name: string; description: string; roleArn: string; discoveryUrl: string; allowedAudience: string[]; mode: GatewayPolicyMode };
  policies: PlannedPolicy[];
  /** Prefix shared by this agent's policies: ones with it that the plan does not name are removed. */
  policyPrefix: string;
  runtime: { name: string; description: string; roleArn: string; containerUri: string; environmentVariables: Record<string, string> };
}

/** AgentCore names: letters, digits and `_`, at most 48; a name cut short keeps a hash of the whole. */
function resourceName(parts: string[]): string {
  const name = parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
  if (name.length <= 48) return name;
  return `${name.slice(0, 39)}_${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/**
 * Maps a released manifest onto AgentCore: one policy engine per environment, attached to the
 * environment's gateway; per agent, one `permit` per manifest tool (AgentCore's Cedar schema
 * knows only `AgentCore::` entities and `context.input`, so this is the agent's tool allow-list;
 * tenant isolation, tiers, approvals and limits stay with Charter's gateway behind the target),
 * and the agent runtime pinned to the manifest digest and its release record.
 */
export function planAgentCore(released: ReleasedManifest, environment: string, settings: AgentCoreSettings): AgentCorePlan {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(settings.targetName))
    throw new InputError(`invalid gateway target name '${settings.targetName}'`, { field: 'targetName' });
  const agent = released.manifest.agent.name;
  const digest = released.digest;
  const recordDigest = released.record.digest;
  const policyPrefix = resourceName(['charter', agent]).slice(0, 30) + '_';
  const policies = released.manifest.tools.map((tool) => ({
    name: resourceName([policyPrefix.slice(0, -1), tool.name]),
    description: `${agent} may call ${tool.name} (${tool.tier}); manifest ${digest}`,
    statement: (gatewayArn: string) =>
      [
        `permit (`,
        `  principal is AgentCore::OAuthUser,`,
        `  action == AgentCore::Action::"${settings.targetName}___${tool.name}",`,
        `  resource == AgentCore::Gateway::"${gatewayArn}"`,
        `);`,
      ].join('\n'),
  }));
  return {
    environment,
    agent,
    manifestDigest: digest,
    recordDigest,
    policyEngine: {
      name: resourceName(['charter', environment]),
      description: `Charter ${environment}: agent tool allow-lists from released manifests`,
    },
    gateway: {
      name: `charter-${environment}`,
      description: `Charter ${environment} tool gateway`,
      roleArn: settings.roleArn,
      discoveryUrl: settings.discoveryUrl,
      allowedAudience: settings.allowedAudience,
      mode: settings.mode,
    },
    policies,
    policyPrefix,
    runtime: {
      name: resourceName(['charter', environment, agent]),
      description: `${agent} (${released.manifest.agent.modelTier}) released to ${environment}`,
      roleArn: settings.roleArn,
      containerUri: settings.containerUri,
      environmentVariables: {
        CHARTER_ENVIRONMENT: environment,
        CHARTER_AGENT: agent,
        CHARTER_MANIFEST_DIGEST: digest,
        CHARTER_RELEASE_RECORD_DIGEST: recordDigest,
      },
    },
  };
}
