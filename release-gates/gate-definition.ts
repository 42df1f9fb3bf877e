import { join } from 'node:path';
import { z } from 'zod';
import { contentPath, InputError, readYaml } from '../common/index.js';

export const Environment = z.enum(['dev', 'stg', 'prod']);
export type Environment = z.infer<typeof Environment>;

/** The environment a candidate must already be released to before it may enter this one. */
export const PROMOTION_ORDER: Record<Environment, Environment | null> = { dev: null, stg: 'dev', prod: 'stg' };

/**
 * How a gate counts: `required` blocks on fail and on not-run (fail closed); `advisory` is
 * reported but never blocks; `off` is not evaluated.
 */
const Enforcement = z.enum(['required', 'advisory', 'off']);
export type Enforcement = z.infer<typeof Enforcement>;

const Rate = z.number().min(0).max(1);

export const GateDefinition = z.strictObject({
  environment: Environment,
  description: z.string().min(1),
  gates: z.strictObject({
    tests: z.strictObject({ enforcement: Enforcement, minCases: z.number().int().min(1).default(1) }),
    secrets: z.strictObject({ enforcement: Enforcement, minEntropy: z.number().min(0).max(8).default(4.5) }),
    cedar: z.strictObject({ enforcement: Enforcement }),
    dependencies: z.strictObject({
      enforcement: Enforcement,
      failOn: z.enum(['low', 'moderate', 'high', 'critical']).default('high'),
      /** The advisory registry npm audit asks; it must also be in the home's egress allow-list, or the gate is not-run. */
      registry: z.string().url().default('https://registry.npmjs.org/'),
    }),
    evals: z.strictObject({
      enforcement: Enforcement,
      /**
       * Significant regressions against the environment's current release (the eval reports it
       * was released with, compared case by case: McNemar for pass/fail, Wilcoxon for scores):
       * `block` fails the gate, `warn` reports them beside a passing gate.
       */
      regressions: z.enum(['block', 'warn']).default('warn'),
      /** Two-sided significance level of those tests. */
      alpha: z.number().gt(0).lt(1).default(0.05),
    }),
    replay: z.strictObject({ enforcement: Enforcement, lastN: z.number().int().min(1).default(1000) }),
    canary: z.strictObject({
      enforcement: Enforcement,
      minRequests: z.number().int().min(0).default(1),
      maxFlipRate: Rate,
      maxErrorRate: Rate,
    }),
    approval: z.strictObject({
      enforcement: Enforcement,
      /** Names of trusted `approval` keys that hold the right to approve a release here. */
      approvers: z.array(z.string().min(1)).default([]),
      /** Distinct approvers needed; two whenever the base pack changed. */
      min: z.number().int().min(1).default(1),
    }),
  }),
});
export type GateDefinition = z.infer<typeof GateDefinition>;

export function defaultEnvironmentsDir(): string {
  return contentPath('release-gates', 'environments');
}

export function parseEnvironment(env: string): Environment {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) throw new InputError(`unknown environment '${env}' (one of ${Environment.options.join(', ')})`, { field: '--env' });
  return parsed.data;
}

/** Loads `<dir>/<env>.yaml`; errors name the file, line and field. */
export function loadGateDefinition(env: string, dir = defaultEnvironmentsDir()): GateDefinition {
  parseEnvironment(env);
  const file = join(dir, `${env}.yaml`);
  const def = readYaml(file, GateDefinition);
  if (def.environment !== env)
    throw new InputError(`environment is '${def.environment}' but the file is for '${env}'`, { file, field: 'environment' });
  return def;
}
