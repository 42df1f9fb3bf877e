import { InputError } from '../common/index.js';
import { strategies } from '../agents/index.js';
import type { DatasetCase } from '../datasets/index.js';
import { ResponseCache } from './cache.js';
import { costOf, judgeIdentity } from './judge/config.js';
import { chatModelFor, parseJsonAnswer } from './judge/grader.js';
import type { ChatModel, TokenUsage } from './judge/model.js';
import { getField, type TargetSpec } from './suite.js';

export interface TargetUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  /** True when the answer came from the response cache (then no tokens and no cost). */
  cached?: boolean;
}

/** What a suite runs against: an agent's strategy, the gateway decision path, a dataset field. */
export interface Target {
  /** Stable name for reports, e.g. `strategy:kraljic-classifier`. */
  id: string;
  /** Digest of the signed manifest the target runs under, when one was given. */
  manifestDigest: string | null;
  /** `repeat` (1-based) tells repeated runs of one case apart (response cache keys). */
  run(testCase: DatasetCase, repeat: number): Promise<{ output: unknown; usage?: TargetUsage }>;
}

/**
 * Builds a target from a suite's spec. `config` on a strategy target overlays the input
 * (e.g. a tenant's thresholds), which is how a mis-configured deployment is evaluated.
 */
export function strategyTarget(agent: string, config?: Record<string, unknown>): Target {
  const strategy = strategies[agent];
  if (!strategy)
    throw new InputError(`no strategy for agent '${agent}' (one of ${Object.keys(strategies).join(', ')})`, { field: 'target.agent' });
  return {
    id: `strategy:${agent}${config ? '+config' : ''}`,
    manifestDigest: null,
    run: async (c) => ({ output: strategy(config ? { ...(c.input as object), ...config } : c.input) }),
  };
}

export function datasetFieldTarget(field: string): Target {
  return { id: `dataset-field:${field}`, manifestDigest: null, run: async (c) => ({ output: getField(c.input, field) }) };
}

/**
 * A model behind a prompt. Answers are cached by the hash of (model identity, request, repeat):
 * a rerun reproduces the same answers at no cost, while repeats of one case stay independent calls.
 */
export function modelTarget(
  spec: Extract<TargetSpec, { kind: 'model' }>,
  cache: ResponseCache | null,
  model: ChatModel = chatModelFor(spec.endpoint),
): Target {
  const identity = judgeIdentity(spec.endpoint);
  return {
    id: `model:${model.id}`,
    manifestDigest: null,
    run: async (c, repeat) => {
      const request = {
        system: spec.system,
        messages: [{ role: 'user' as const, content: spec.prompt.replaceAll('{{input}}', JSON.stringify(c.input)) }],
      };
      const key = ResponseCache.keyOf({ target: identity, request, repeat });
      const hit = cache?.get<{ text: string; usage: TokenUsage | null }>(key);
      const res = hit ?? (await model.complete(request));
      const output = parseJsonAnswer(res.text, 'target');
      if (!hit) cache?.set(key, { text: res.text, usage: res.usage });
      // A cached answer spent nothing new: no tokens, no cost, counted as a hit.
      if (hit) return { output, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, cached: true } };
      const u = res.usage;
      return u
        ? { output, usage: { inputTokens: u.inputTokens, outputTokens: u.outputTokens, costUsd: costOf(spec.endpoint.pricing, u) } }
        : { output };
    },
  };
}

export function targetFor(spec: TargetSpec, cache: ResponseCache | null = null): Target {
  switch (spec.kind) {
    case 'model':
      return modelTarget(spec, cache);
    case 'strategy':
      return strategyTarget(spec.agent, spec.config);
    case 'dataset-field':
      return datasetFieldTarget(spec.field);
    case 'gateway':
    case 'model-agent':
      throw new InputError(`the ${spec.kind} target is built from the agents' signed manifests`, { field: 'target.kind' });
  }
}
