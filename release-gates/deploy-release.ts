import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { FindingError } from '../common/index.js';
import { planAgentCore, type AgentCorePlan, type AgentCoreSettings } from './agentcore-plan.js';
import { deployToAgentCore, type AgentCoreDeployment, type DeployOptions } from './agentcore-deploy.js';
import { releaseContext, type ReleaseOptions } from './check-release.js';
import { Environment, parseEnvironment } from './gate-definition.js';
import { loadReleasedManifest } from './released-manifest.js';
import { terraformForPlans } from './terraform.js';

type HomeOptions = Pick<ReleaseOptions, 'home' | 'trustedKeysFile'>;

/** `{agent}` in the container URI is the agent's name, so one setting serves every agent. */
function planFor(env: Environment, agent: string, settings: AgentCoreSettings, opts: HomeOptions): AgentCorePlan {
  const released = loadReleasedManifest(env, agent, opts);
  return planAgentCore(released, env, { ...settings, containerUri: settings.containerUri.replaceAll('{agent}', agent) });
}

/**
 * Deploys an agent's current release in an environment to AgentCore. Only a manifest named by a
 * valid release record is deployed (loadReleasedManifest refuses anything else). The client's
 * endpoint and region come from the usual AWS settings (e.g. AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL).
 */
export async function deployRelease(
  env: string,
  agent: string,
  settings: AgentCoreSettings,
  opts: HomeOptions & DeployOptions & { client?: BedrockAgentCoreControlClient } = {},
): Promise<{ plan: AgentCorePlan; deployment: AgentCoreDeployment }> {
  const plan = planFor(parseEnvironment(env), agent, settings, opts);
  const client = opts.client ?? new BedrockAgentCoreControlClient({});
  return { plan, deployment: await deployToAgentCore(plan, client, opts) };
}

/** Terraform for every agent released in an environment. */
export function releaseTerraform(env: string, settings: AgentCoreSettings, opts: HomeOptions = {}): string {
  const environment = parseEnvironment(env);
  const agents = releaseContext(opts).store.agents(environment);
  if (agents.length === 0) throw new FindingError(`nothing is released in ${environment}`);
  return terraformForPlans(agents.map((a) => planFor(environment, a, settings, opts)));
}
