import { createHash } from 'node:crypto';
import { ENVELOPE_HEADER, IDENTITY_HEADER } from '../agents/index.js';
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
  /** Charter's gateway MCP endpoint: every gateway target forwards there (tenancy, tiers, approvals stay with it). */
  toolsUrl: string;
  /** The S3 Object Lock bucket of the trail (pool tenants share it, each under its own prefix). */
  auditBucket: string;
  mode: GatewayPolicyMode;
}

/** How one tenant is deployed (tenants.yaml `deploy`): pool shares the environment's resources, silo has its own. */
export type Tenancy = { model: 'pool' } | { model: 'silo'; tenant: string; bucket?: string | undefined; prefix?: string | undefined };

export interface PlannedPolicy {
  name: string;
  description: string;
  /** The Cedar statement in AgentCore's dialect, given how to write the gateway's ARN. */
  statement(gatewayArn: string): string;
}

/** An MCP tool as a gateway target lists it (its argument contract as the input schema). */
export interface TargetTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** A gateway target: an MCP server target pointing at Charter's gateway, with a static tool list. */
export interface PlannedTarget {
  name: string;
  description: string;
  endpoint: string;
  tools: TargetTool[];
}

/** Session lifecycle of the agent runtime (AgentCore's LifecycleConfiguration). */
export const RUNTIME_LIFECYCLE = { idleRuntimeSessionTimeout: 900, maxLifetime: 28_800 } as const;

/** The AgentCore resources of one agent's release in one environment, for one tenancy model. */
export interface AgentCorePlan {
  environment: string;
  agent: string;
  manifestDigest: string;
  recordDigest: string;
  tenancy: Tenancy;
  policyEngine: { name: string; description: string };
  gateway: { name: string; description: string; roleArn: string; discoveryUrl: string; allowedAudience: string[]; mode: GatewayPolicyMode };
  targets: PlannedTarget[];
  policies: PlannedPolicy[];
  /** Prefix shared by this agent's policies: ones with it that the plan does not name are removed. */
  policyPrefix: string;
  runtime: {
    name: string;
    description: string;
    roleArn: string;
    containerUri: string;
    /** The runtime's environment; deploy adds CHARTER_GATEWAY_URL, the gateway's MCP URL, once the gateway exists. */
    environmentVariables: Record<string, string>;
    /** Inbound JWT authorizer: the same identity provider and audience the gateway trusts. */
    authorizer: { discoveryUrl: string; allowedAudience: string[] };
    /** Request headers AgentCore passes to the container: the identity token and the signed invocation envelope. */
    requestHeaderAllowlist: string[];
    lifecycle: { idleRuntimeSessionTimeout: number; maxLifetime: number };
  };
  /** Where the runtimes' audit trail goes (CHARTER_AUDIT_SINK). */
  audit: { bucket: string; prefix: string };
}

/** AgentCore names: letters, digits and `_`, at most 48; a name cut short keeps a hash of the whole. */
function resourceName(parts: string[]): string {
  const name = parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
  if (name.length <= 48) return name;
  return `${name.slice(0, 39)}_${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/** A Cedar string literal. */
const cedarString = (s: string) => JSON.stringify(s);

/**
 * The gateway target a tool belongs to: one per Cedar namespace of the catalog (the domain pack
 * that owns the tool), e.g. `Procurement::Action::"get_bids"` is in target `procurement`.
 */
export function targetOf(action: string): string {
  const ns = /^(.+)::Action::"[^"]*"$/.exec(action)?.[1];
  if (!ns) throw new InputError(`tool action '${action}' is not of the form Namespace::Action::"name"`, { field: 'tools.action' });
  return ns.toLowerCase().replaceAll('::', '-');
}

/**
 * Maps a released manifest onto AgentCore: one policy engine and gateway per environment (pool)
 * or per tenant (silo); a gateway target per tool namespace, pointing at Charter's gateway and
 * listing the tools with their argument contracts; per agent one `permit` per manifest tool,
 * scoped to tokens whose `agentId` claim names the agent (and, in a silo, whose `tenantId`
 * claim names the tenant): AgentCore's Cedar dialect sees JWT claims as principal tags. The
 * rest (tenant binding per call, tiers, approvals, limits) stays with Charter's gateway behind
 * the target. The agent runtime is pinned to the manifest digest and its release record.
 */
export function planAgentCore(
  released: ReleasedManifest,
  environment: string,
  settings: AgentCoreSettings,
  tenancy: Tenancy = { model: 'pool' },
): AgentCorePlan {
  const agent = released.manifest.agent.name;
  const digest = released.digest;
  const recordDigest = released.record.digest;
  const scope = tenancy.model === 'silo' ? [environment, tenancy.tenant] : [environment];
  const policyPrefix = resourceName(['charter', ...scope.slice(1), agent]).slice(0, 30) + '_';
  const targets = new Map<string, PlannedTarget>();
  for (const tool of released.manifest.tools) {
    const name = targetOf(tool.action);
    const target = targets.get(name) ?? {
      name,
      description: `Charter gateway: ${name} tools`,
      endpoint: settings.toolsUrl,
      tools: [],
    };
    target.tools.push({ name: tool.name, description: tool.description, inputSchema: tool.args });
    targets.set(name, target);
  }
  const claims = [
    `principal.hasTag("agentId") && principal.getTag("agentId") == ${cedarString(agent)}`,
    ...(tenancy.model === 'silo' ? [`principal.hasTag("tenantId") && principal.getTag("tenantId") == ${cedarString(tenancy.tenant)}`] : []),
  ];
  const policies = released.manifest.tools.map((tool) => ({
    name: resourceName([policyPrefix.slice(0, -1), tool.name]),
    description: `${agent} may call ${tool.name} (${tool.tier}); manifest ${digest}`,
    statement: (gatewayArn: string) =>
      [
        `permit (`,
        `  principal is AgentCore::OAuthUser,`,
        `  action == AgentCore::Action::${cedarString(`${targetOf(tool.action)}___${tool.name}`)},`,
        `  resource == AgentCore::Gateway::${cedarString(gatewayArn)}`,
        `) when {`,
        ...claims.map((c, i) => `  ${c}${i < claims.length - 1 ? ' &&' : ''}`),
        `};`,
      ].join('\n'),
  }));
  const audit =
    tenancy.model === 'silo'
      ? { bucket: tenancy.bucket ?? settings.auditBucket, prefix: tenancy.prefix ?? `audit/${tenancy.tenant}` }
      : { bucket: settings.auditBucket, prefix: 'audit' };
  return {
    environment,
    agent,
    manifestDigest: digest,
    recordDigest,
    tenancy,
    policyEngine: {
      name: resourceName(['charter', ...scope]),
      description: `Charter ${scope.join(' ')}: agent tool allow-lists from released manifests`,
    },
    gateway: {
      name: ['charter', ...scope].join('-').replace(/[^A-Za-z0-9-]/g, '-'),
      description: `Charter ${scope.join(' ')} tool gateway`,
      roleArn: settings.roleArn,
      discoveryUrl: settings.discoveryUrl,
      allowedAudience: settings.allowedAudience,
      mode: settings.mode,
    },
    targets: [...targets.values()],
    policies,
    policyPrefix,
    runtime: {
      name: resourceName(['charter', ...scope, agent]),
      description: `${agent} (${released.manifest.agent.modelTier}) released to ${scope.join(' ')}`,
      roleArn: settings.roleArn,
      containerUri: settings.containerUri,
      environmentVariables: {
        CHARTER_ENVIRONMENT: environment,
        CHARTER_AGENT: agent,
        CHARTER_MANIFEST_DIGEST: digest,
        CHARTER_RELEASE_RECORD_DIGEST: recordDigest,
        CHARTER_AUDIT_SINK: `s3://${audit.bucket}/${audit.prefix}`,
        ...(tenancy.model === 'silo' ? { CHARTER_TENANT: tenancy.tenant } : {}),
      },
      authorizer: { discoveryUrl: settings.discoveryUrl, allowedAudience: settings.allowedAudience },
      requestHeaderAllowlist: [IDENTITY_HEADER, ENVELOPE_HEADER],
      lifecycle: { ...RUNTIME_LIFECYCLE },
    },
    audit,
  };
}
