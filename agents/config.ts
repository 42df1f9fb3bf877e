import { z } from 'zod';
import { errorMessage, readYaml } from '../common/index.js';

/**
 * Agent and tenant configuration, resolved per tenant as seed 000 describes: per-tenant
 * override -> the tenant's profile -> defaults. A store that fails falls back to the safe
 * defaults with a warning instead of blocking the agent.
 */
const Unit = z.number().min(0).max(1);
const sections = {
  /** Model ids per tier; an empty id means no model: the agent runs its deterministic strategy. */
  models: z.strictObject({ SimpleLLM: z.string(), DefaultLLM: z.string() }),
  kraljicThresholds: z.strictObject({ profitImpact: Unit, supplyRisk: Unit }),
  admission: z.strictObject({
    reservedSlots: z.number().int().nonnegative(),
    maxSlots: z.number().int().positive(),
    retryAfterSeconds: z.number().int().positive(),
  }),
  /** Leverage auctions stop after this many rounds or when the best price moves less than convergencePct. */
  auction: z.strictObject({ maxRounds: z.number().int().min(1).max(5), convergencePct: z.number().min(0).max(100) }),
  bidWeights: z.strictObject({ price: Unit, delivery: Unit, quality: Unit, risk: Unit }),
  /**
   * Bounds of a model-driven agent's tool-use loop (per invocation): model turns, proposed
   * calls, tokens, wall time and cost (priced per million tokens). Past one, the model's pending
   * proposals are stopped and recorded as denies, and the negotiation goes to compliance review.
   */
  modelLoop: z.strictObject({
    maxTurns: z.number().int().min(1).max(50),
    maxToolCalls: z.number().int().min(1).max(500),
    maxTokens: z.number().int().positive(),
    maxSeconds: z.number().positive().max(3600),
    maxCostUsd: z.number().nonnegative(),
    usdPerMillionInputTokens: z.number().nonnegative(),
    usdPerMillionOutputTokens: z.number().nonnegative(),
  }),
  /** The tenant limits the procurement packs compare against (Procurement::TenantLimits). */
  limits: z.strictObject({
    /** Awards above this total need a human approval (DAG node 6). */
    spendThresholdCents: z.number().int().nonnegative(),
    maxPurchaseOrderCents: z.number().int().positive(),
    maxSpotBidCents: z.number().int().positive(),
    maxSpotDeadlineHours: z.number().int().positive(),
    maxAuctionRounds: z.number().int().positive(),
    maxProposalTermMonths: z.number().int().positive(),
    maxAgreementMonths: z.number().int().positive(),
  }),
};
const scalars = {
  temperature: Unit,
  maxTokens: z.number().int().positive(),
  /** How long a human has to approve an award above the threshold (seed: 96 h). */
  approvalTimeoutSeconds: z.number().int().positive(),
  /**
   * How long before that deadline the approver queue and the runtime's reminder hooks are
   * reminded (once; at the request itself when the timeout is shorter). 0: no reminder.
   */
  approvalReminderSeconds: z.number().int().nonnegative(),
};

export const AgentConfig = z.strictObject({ ...sections, ...scalars });
export type AgentConfig = z.infer<typeof AgentConfig>;
export type ModelLoopBounds = AgentConfig['modelLoop'];

/** An override names any subset of fields, and any subset inside a section. */
export const AgentConfigOverride = z.strictObject({
  models: sections.models.partial().optional(),
  kraljicThresholds: sections.kraljicThresholds.partial().optional(),
  admission: sections.admission.partial().optional(),
  auction: sections.auction.partial().optional(),
  bidWeights: sections.bidWeights.partial().optional(),
  modelLoop: sections.modelLoop.partial().optional(),
  limits: sections.limits.partial().optional(),
  ...z.strictObject(scalars).partial().shape,
});
export type AgentConfigOverride = z.infer<typeof AgentConfigOverride>;

/**
 * Conservative defaults: no model (rules), a low auto-approval threshold, one reserved slot.
 * Used as the base of every resolution and alone when the store cannot be read.
 */
export const SAFE_DEFAULTS: AgentConfig = {
  models: { SimpleLLM: '', DefaultLLM: '' },
  temperature: 0,
  maxTokens: 1024,
  kraljicThresholds: { profitImpact: 0.5, supplyRisk: 0.5 },
  admission: { reservedSlots: 1, maxSlots: 4, retryAfterSeconds: 5 },
  auction: { maxRounds: 5, convergencePct: 1 },
  bidWeights: { price: 0.5, delivery: 0.2, quality: 0.2, risk: 0.1 },
  modelLoop: {
    maxTurns: 8,
    maxToolCalls: 24,
    maxTokens: 60_000,
    maxSeconds: 120,
    maxCostUsd: 0.5,
    usdPerMillionInputTokens: 3,
    usdPerMillionOutputTokens: 15,
  },
  limits: {
    spendThresholdCents: 1_000_000,
    maxPurchaseOrderCents: 50_000_000,
    maxSpotBidCents: 2_500_000,
    maxSpotDeadlineHours: 23,
    maxAuctionRounds: 5,
    maxProposalTermMonths: 12,
    maxAgreementMonths: 36,
  },
  approvalTimeoutSeconds: 96 * 3600,
  approvalReminderSeconds: 24 * 3600,
};

/** Where configuration comes from (a YAML file locally; DynamoDB system-config at scale). */
export interface ConfigStore {
  defaults(): AgentConfigOverride;
  profileOf(tenantId: string): string | undefined;
  profile(name: string): AgentConfigOverride;
  tenantOverride(tenantId: string, agent: string): AgentConfigOverride;
}

export interface ResolvedConfig {
  config: AgentConfig;
  /** Which layers applied, most specific last, e.g. ['defaults', 'profile:enterprise', 'tenant:acme']. */
  sources: string[];
  warnings: string[];
}

/** Shallow merge that also merges one level of sections, so an override may name a single field of one. */
function merge<T extends object>(base: T, over: object): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const current = out[k];
    out[k] = v !== null && typeof v === 'object' && typeof current === 'object' ? { ...(current as object), ...v } : v;
  }
  return out as T;
}

export function resolveAgentConfig(store: ConfigStore, tenantId: string, agent: string): ResolvedConfig {
  try {
    let config = merge(SAFE_DEFAULTS, store.defaults());
    const sources = ['defaults'];
    const profile = store.profileOf(tenantId);
    if (profile) {
      config = merge(config, store.profile(profile));
      sources.push(`profile:${profile}`);
    }
    const override = store.tenantOverride(tenantId, agent);
    if (Object.keys(override).length > 0) {
      config = merge(config, override);
      sources.push(`tenant:${tenantId}`);
    }
    // The merged result is validated as a whole: a bad override is a store failure, not a crash.
    return { config: AgentConfig.parse(config), sources, warnings: [] };
  } catch (err) {
    return {
      config: SAFE_DEFAULTS,
      sources: ['safe-defaults'],
      warnings: [`config store failed for tenant ${tenantId} (${errorMessage(err)}); using safe defaults`],
    };
  }
}

const Override = AgentConfigOverride;
/**
 * How a tenant is deployed on AgentCore: `pool` (default) shares the environment's runtimes,
 * gateway and audit bucket, the tenant bound per session; `silo` gets its own runtimes, gateway
 * and policy engine, and its trail under its own prefix or in its own bucket.
 */
export const TenantDeployment = z.discriminatedUnion('model', [
  z.strictObject({ model: z.literal('pool') }),
  z.strictObject({
    model: z.literal('silo'),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .optional(),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]+$/, 'an S3 key prefix')
      .optional(),
  }),
]);
export type TenantDeployment = z.infer<typeof TenantDeployment>;
export const ConfigFile = z.strictObject({
  defaults: Override.default({}),
  profiles: z.record(z.string(), Override).default({}),
  tenants: z
    .record(
      z.string(),
      z.strictObject({
        profile: z.string().optional(),
        config: Override.default({}),
        agents: z.record(z.string(), Override).default({}),
        deploy: TenantDeployment.default({ model: 'pool' }),
      }),
    )
    .default({}),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

/** A config store held in memory (tests, the demo) or read from a YAML file. */
export class StaticConfigStore implements ConfigStore {
  constructor(private readonly data: ConfigFile) {}

  static fromFile(file: string): StaticConfigStore {
    return new StaticConfigStore(readYaml(file, ConfigFile));
  }

  static of(data: z.input<typeof ConfigFile>): StaticConfigStore {
    return new StaticConfigStore(ConfigFile.parse(data));
  }

  /** The tenants this store configures. */
  tenants(): string[] {
    return Object.keys(this.data.tenants);
  }
  defaults(): AgentConfigOverride {
    return this.data.defaults;
  }
  /** How each tenant is deployed (tenants.yaml `deploy`; pool unless it says silo). */
  deployments(): Record<string, TenantDeployment> {
    return Object.fromEntries(Object.entries(this.data.tenants).map(([t, c]) => [t, c.deploy]));
  }
  profileOf(tenantId: string): string | undefined {
    return this.data.tenants[tenantId]?.profile;
  }
  profile(name: string): AgentConfigOverride {
    const p = this.data.profiles[name];
    if (!p) throw new Error(`unknown config profile '${name}'`);
    return p;
  }
  tenantOverride(tenantId: string, agent: string): AgentConfigOverride {
    const t = this.data.tenants[tenantId];
    if (!t) return {};
    return merge(t.config, t.agents[agent] ?? {});
  }
}
