import { FindingError, InputError } from '../common/index.js';
import { GovernedAgent, type AgentManifestView } from './agent.js';
import { resolveAgentConfig, type ConfigStore } from './config.js';
import { AGENT_DEFINITIONS, type AgentName } from './definitions/index.js';
import { modelForTier, type ModelClients } from './model-provider.js';
import type { ToolChannelFactory } from './toolbox.js';

export interface AgentFactoryOptions {
  /** Verified manifests by agent name (loadVerifiedManifest results). */
  manifests: ReadonlyMap<string, AgentManifestView>;
  config: ConfigStore;
  /** Opens the gateway channel an agent's tool calls go through. */
  channels: ToolChannelFactory;
  /** Where the agents' models are reached (Bedrock from the AWS settings, OPENAI_BASE_URL, by default). */
  models?: ModelClients;
  /** Where config-store warnings go (they are also carried in every output). */
  warn?: (message: string) => void;
}

/**
 * The DynamicAgentFactory of seed 000: the tenant is injected at construction (config, model
 * and gateway channel are resolved for that tenant), never passed per call. Construction is
 * where start-up cost is paid: config read, manifest check, gateway connection.
 */
export class AgentFactory {
  constructor(private readonly opts: AgentFactoryOptions) {}

  async create(name: string, tenantId: string): Promise<GovernedAgent> {
    if (!Object.hasOwn(AGENT_DEFINITIONS, name))
      throw new InputError(`unknown agent '${name}' (one of ${Object.keys(AGENT_DEFINITIONS).join(', ')})`, { field: 'agent' });
    const definition = AGENT_DEFINITIONS[name as AgentName];
    const manifest = this.opts.manifests.get(name);
    if (!manifest)
      throw new FindingError(`agent ${name} has no verified manifest: compile and sign it first (charter packs compile --agent ${name})`);
    if (manifest.manifest.agent.name !== name)
      throw new FindingError(`manifest for ${name} is the manifest of agent '${manifest.manifest.agent.name}'`);
    const resolved = resolveAgentConfig(this.opts.config, tenantId, name);
    for (const w of resolved.warnings) this.opts.warn?.(w);
    const model = modelForTier(resolved.config, manifest.manifest.agent.modelTier, this.opts.models);
    const channel = await this.opts.channels(tenantId, name);
    return new GovernedAgent(definition as never, tenantId, manifest, resolved.config, channel, model, resolved.warnings);
  }
}
