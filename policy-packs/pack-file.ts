import { z } from 'zod';
import semver from 'semver';

/** Risk tier of a tool; every tool's Cedar action is a member of exactly one tier group. */
export const RiskTier = z.enum(['read', 'write-low', 'write-high', 'critical']);
export type RiskTier = z.infer<typeof RiskTier>;

export const Layer = z.enum(['base', 'domain', 'intent']);
export type Layer = z.infer<typeof Layer>;

const PackName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'pack names are lower-case letters, digits and -');
const Version = z.string().refine((v) => semver.valid(v) === v, 'version must be an exact semver version, e.g. 1.2.0');
const Range = z.string().refine((r) => semver.validRange(r) !== null, 'not a semver range, e.g. ^1.0.0');

const Sha256 = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>');

/**
 * A release threshold on an eval metric, pinned to the evidence that may satisfy it: the
 * suite file's digest, the dataset's digest (sha256 of its data.jsonl) and the fewest cases
 * the metric must have been measured on (`charter evals list --json` prints the pins).
 */
export const EvalThreshold = z.strictObject({
  suite: z.string().min(1),
  metric: z.string().min(1),
  min: z.number(),
  bound: z.enum(['lower', 'point']).default('lower'),
  suiteDigest: Sha256,
  datasetDigest: Sha256,
  minCases: z.number().int().positive(),
});
export type EvalThreshold = z.infer<typeof EvalThreshold>;

export const AgentDeclaration = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'agent names are lower-case letters, digits and -'),
  description: z.string().min(1),
  dagNode: z.string().min(1),
  modelTier: z.enum(['SimpleLLM', 'DefaultLLM']),
  tools: z.array(z.strictObject({ name: z.string().min(1), tier: RiskTier })).min(1),
  evalThresholds: z.array(EvalThreshold).default([]),
});
export type AgentDeclaration = z.infer<typeof AgentDeclaration>;

/** pack.yaml, as docs/architecture.md defines it. */
export const PackFile = z
  .strictObject({
    name: PackName,
    layer: Layer,
    version: Version,
    owner: z.string().min(1),
    description: z.string().min(1),
    extends: z.record(PackName, Range).default({}),
    agent: AgentDeclaration.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.layer === 'intent' && !p.agent)
      ctx.addIssue({ code: 'custom', path: ['agent'], message: 'intent packs must declare their agent' });
    if (p.layer !== 'intent' && p.agent) ctx.addIssue({ code: 'custom', path: ['agent'], message: 'only intent packs declare an agent' });
    if (p.layer === 'base' && Object.keys(p.extends).length > 0)
      ctx.addIssue({ code: 'custom', path: ['extends'], message: 'base extends nothing' });
    if (p.layer !== 'base' && Object.keys(p.extends).length === 0)
      ctx.addIssue({ code: 'custom', path: ['extends'], message: `a ${p.layer} pack must extend at least base` });
  });
export type PackFile = z.infer<typeof PackFile>;

export const ToolResource = z.union([
  z.strictObject({ type: z.string().min(1), idArg: z.string().min(1) }),
  z.strictObject({ tenant: z.literal(true) }),
]);
export type ToolResource = z.infer<typeof ToolResource>;

export const ToolDefinition = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'tool names are snake_case'),
  tier: RiskTier,
  description: z.string().min(1),
  resource: ToolResource,
  args: z.record(z.string(), z.unknown()),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

export const ToolsFile = z.strictObject({ tools: z.array(ToolDefinition) });

/** `Type::"id"` written as a string, the form tests and fixtures use. */
export const EntityUidText = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*::"[^"]*"$/, 'expected an entity uid like Type::"id"');

export const FixtureEntity = z.strictObject({
  uid: EntityUidText,
  parents: z.array(EntityUidText).default([]),
  attrs: z.record(z.string(), z.unknown()).default({}),
});

export const FixturesFile = z.strictObject({
  entities: z.array(FixtureEntity).default([]),
  tenants: z.record(z.string(), z.strictObject({ limits: z.record(z.string(), z.unknown()).default({}) })).default({}),
});
export type FixturesFile = z.infer<typeof FixturesFile>;

export const ToolSelector = z.union([z.string().min(1), z.strictObject({ tier: RiskTier })]);
export type ToolSelector = z.infer<typeof ToolSelector>;

export const PackTest = z.strictObject({
  name: z.string().min(1),
  agent: z.string().min(1).default('*'),
  tenant: z.string().min(1),
  tool: ToolSelector,
  resource: z.union([EntityUidText, z.strictObject({ tenant: z.string().min(1) })]).optional(),
  args: z.record(z.string(), z.unknown()).default({}),
  approvers: z.array(z.string()).default([]),
  /** Set: the case asks whether this approver (a `Charter::Approver` fixture) may approve the call, not the call itself. */
  approver: z.string().min(1).optional(),
  limits: z.record(z.string(), z.unknown()).optional(),
  entities: z.array(FixtureEntity).default([]),
  expect: z.enum(['allow', 'deny']),
  determining: z.array(z.string()),
});
export type PackTest = z.infer<typeof PackTest>;

export const TestsFile = z.strictObject({ tests: z.array(PackTest) });
