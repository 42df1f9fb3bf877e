import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { StaticConfigStore } from '../agents/index.js';
import { charterHome, FindingError } from '../common/index.js';
import { planAgentCore, type AgentCorePlan, type AgentCoreSettings, type Tenancy } from './agentcore-plan.js';
import { deployToAgentCore, type AgentCoreDeployment, type DeployOptions } from './agentcore-deploy.js';
import { releaseContext, type ReleaseOptions } from './check-release.js';
import { Environment, parseEnvironment } from './gate-definition.js';
import { loadReleasedManifest } from './released-manifest.js';
import { terraformForPlans, type TerraformJson } from './terraform.js';

type HomeOptions = Pick<ReleaseOptions, 'home' | 'trustedKeysFile'>;

/**
 * The tenancy models the home's tenants.yaml asks for: the shared pool (when a tenant is pooled,
 * or no tenant is configured) and one silo per tenant whose `deploy.model` is `silo`.
 */
export function tenancies(opts: HomeOptions = {}): Tenancy[] {
  const file = join(opts.home ?? charterHome(), 'tenants.yaml');
  const deployments = Object.entries(existsSync(file) ? StaticConfigStore.fromFile(file).deployments() : {});
  const silos: Tenancy[] = deployments.flatMap(([tenant, d]) =>
    d.model === 'silo' ? [{ model: 'silo' as const, tenant, bucket: d.bucket, prefix: d.prefix }] : [],
  );
  const pool = deployments.length === 0 || deployments.some(([, d]) => d.model === 'pool');
  return [...(pool ? [{ model: 'pool' as const }] : []), ...silos];
}

/** `{agent}` in the container URI is the agent's name, so one setting serves every agent; one plan per tenancy. */
function plansFor(env: Environment, agent: string, settings: AgentCoreSettings, opts: HomeOptions): AgentCorePlan[] {
  const released = loadReleasedManifest(env, agent, opts);
  const agentSettings = { ...settings, containerUri: settings.containerUri.replaceAll('{agent}', agent) };
  return tenancies(opts).map((t) => planAgentCore(released, env, agentSettings, t));
}

/**
 * The plans of an agent's current release in an environment, one per tenancy model in
 * tenants.yaml (what `deploy --dry-run` prints). Only a manifest named by a valid release record
 * is planned (loadReleasedManifest refuses anything else).
 */
export function planRelease(env: string, agent: string, settings: AgentCoreSettings, opts: HomeOptions = {}): AgentCorePlan[] {
  return plansFor(parseEnvironment(env), agent, settings, opts);
}

/**
 * Deploys an agent's current release in an environment to AgentCore, for the pool and for each
 * silo tenant. The client's endpoint and region come from the usual AWS settings (e.g.
 * AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL).
 */
export async function deployRelease(
  env: string,
  agent: string,
  settings: AgentCoreSettings,
  opts: HomeOptions & DeployOptions & { client?: BedrockAgentCoreControlClient } = {},
): Promise<Array<{ plan: AgentCorePlan; deployment: AgentCoreDeployment }>> {
  const client = opts.client ?? new BedrockAgentCoreControlClient({});
  const out = [];
  for (const plan of planRelease(env, agent, settings, opts)) out.push({ plan, deployment: await deployToAgentCore(plan, client, opts) });
  return out;
}

/** Terraform (JSON syntax) for every agent released in an environment, every tenancy model included. */
export function releaseTerraform(env: string, settings: AgentCoreSettings, opts: HomeOptions = {}): TerraformJson {
  const environment = parseEnvironment(env);
  const agents = releaseContext(opts).store.agents(environment);
  if (agents.length === 0) throw new FindingError(`nothing is released in ${environment}`);
  return terraformForPlans(agents.flatMap((a) => plansFor(environment, a, settings, opts)));
}
