import { InputError } from '../common/index.js';
import { strategies } from '../agents/index.js';
import type { DatasetCase } from '../datasets/index.js';
import { getField, type TargetSpec } from './suite.js';

export interface TargetUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

/** What a suite runs against: an agent's strategy, the gateway decision path, a dataset field. */
export interface Target {
  /** Stable name for reports, e.g. `strategy:kraljic-classifier`. */
  id: string;
  /** Digest of the signed manifest the target runs under, when one was given. */
  manifestDigest: string | null;
  run(testCase: DatasetCase): Promise<{ output: unknown; usage?: TargetUsage }>;
}

/**
 * Builds a target from a suite's spec. `config` on a strategy target overlays the input
 * (e.g. a tenant's thresholds), which is how a mis-configured deployment is evaluated.
 */
export function strategyTarget(agent: string, config?: Record<string, unknown>): Target {
  const strategy = strategies[agent];
  if (!strategy) throw new InputError(`no strategy for agent '${agent}' (one of ${Object.keys(strategies).join(', ')})`, { field: 'target.agent' });
  return {
    id: `strategy:${agent}${config ? '+config' : ''}`,
    manifestDigest: null,
    run: async (c) => ({ output: strategy(config ? { ...(c.input as object), ...config } : c.input) }),
  };
}

export function datasetFieldTarget(field: string): Target {
  return { id: `dataset-field:${field}`, manifestDigest: null, run: async (c) => ({ output: getField(c.input, field) }) };
}

export function targetFor(spec: TargetSpec): Target {
  switch (spec.kind) {
    case 'strategy':
      return strategyTarget(spec.agent, spec.config);
    case 'dataset-field':
      return datasetFieldTarget(spec.field);
    case 'gateway':
      throw new InputError("the gateway target is built from the agents' signed manifests (gatewayTarget)", { field: 'target.kind' });
  }
}
