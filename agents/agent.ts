import type { z } from 'zod';
import { validateWith } from '../common/index.js';
import type { AgentConfig } from './config.js';
import type { ModelProvider, ModelRequest, ModelTier } from './model-provider.js';
import { runWithTenant } from './tenant-context.js';
import { Toolbox, type ToolChannel } from './toolbox.js';

/** Which part of an agent produced an output: a named model, or the deterministic rules. */
export type ProducedBy = { model: string } | { strategy: 'rules' };

export function describeProducer(p: ProducedBy): string {
  return 'model' in p ? `model: ${p.model}` : 'strategy: rules';
}

export interface AgentUsage {
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
}

export interface AgentOutput<O = unknown> {
  agent: string;
  tenantId: string;
  manifestDigest: string;
  producedBy: ProducedBy;
  output: O;
  usage: AgentUsage;
  warnings: string[];
}

/** The parts of a verified manifest an agent needs (policy-packs' VerifiedManifest fits). */
export interface AgentManifestView {
  digest: string;
  manifest: {
    agent: { name: string; modelTier: ModelTier; dagNode: string };
    tools: ReadonlyArray<{ name: string; tier: string; args: Record<string, unknown> }>;
  };
}

export interface AgentContext {
  tenantId: string;
  negotiationId: string | undefined;
  config: AgentConfig;
  tools: Toolbox;
  /** Undefined without a configured model: the agent must use its rules. */
  model: ModelProvider | undefined;
  /** Asks the model and counts its tokens; only call when `model` is set. */
  ask(req: Omit<ModelRequest, 'temperature' | 'maxTokens'>): Promise<string>;
}

export interface AgentResult<O> {
  output: O;
  producedBy: ProducedBy;
  warnings?: string[];
}

export interface AgentDefinition<I = unknown, O = unknown> {
  name: string;
  input: z.ZodType<I>;
  run(input: I, ctx: AgentContext): Promise<AgentResult<O>>;
}

export interface InvokeOptions {
  negotiationId?: string;
  traceId?: string;
}

/**
 * One agent bound to one tenant and one verified manifest. Every invocation runs inside the
 * tenant's context, so every tool call it makes carries that tenant.
 */
export class GovernedAgent<I = unknown, O = unknown> {
  constructor(
    readonly definition: AgentDefinition<I, O>,
    readonly tenantId: string,
    readonly manifest: AgentManifestView,
    readonly config: AgentConfig,
    private readonly channel: ToolChannel,
    readonly model: ModelProvider | undefined,
    /** Config warnings (store failures) carried into every output. */
    readonly configWarnings: string[] = [],
  ) {}

  get name(): string {
    return this.definition.name;
  }

  /** Runs the agent on untrusted input (validated with the agent's schema: a bad field is an InputError). */
  async invoke(raw: unknown, opts: InvokeOptions = {}): Promise<AgentOutput<O>> {
    const input = validateWith(this.definition.input, raw, `${this.name} input`);
    const usage: AgentUsage = { modelCalls: 0, inputTokens: 0, outputTokens: 0, toolCalls: 0 };
    const takesTenant = new Set(
      this.manifest.manifest.tools
        .filter((t) => Object.hasOwn((t.args.properties as object | undefined) ?? {}, 'tenant_id'))
        .map((t) => t.name),
    );
    const tools = new Toolbox(this.channel, this.tenantId, this.name, takesTenant);
    const ctx: AgentContext = {
      tenantId: this.tenantId,
      negotiationId: opts.negotiationId,
      config: this.config,
      tools,
      model: this.model,
      ask: async (req) => {
        if (!this.model) throw new Error(`${this.name}: no model configured`);
        const answer = await this.model.complete({ ...req, temperature: this.config.temperature, maxTokens: this.config.maxTokens });
        usage.modelCalls++;
        usage.inputTokens += answer.inputTokens;
        usage.outputTokens += answer.outputTokens;
        return answer.text;
      },
    };
    const tenantCtx = {
      tenantId: this.tenantId,
      agent: this.name,
      ...(opts.negotiationId ? { negotiationId: opts.negotiationId } : {}),
      ...(opts.traceId ? { traceId: opts.traceId } : {}),
    };
    const result = await runWithTenant(tenantCtx, () => this.definition.run(input, ctx));
    usage.toolCalls = tools.calls.length;
    return {
      agent: this.name,
      tenantId: this.tenantId,
      manifestDigest: this.manifest.digest,
      producedBy: result.producedBy,
      output: result.output,
      usage,
      warnings: [...this.configWarnings, ...(result.warnings ?? [])],
    };
  }
}
