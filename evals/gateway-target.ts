import { join } from 'node:path';
import { z } from 'zod';
import { contentPath, InputError } from '../common/index.js';
import type { AuditRecord } from '../audit/index.js';
import { openDecisionPath, type DecisionPath } from '../gateway/index.js';
import type { DatasetCase } from '../datasets/index.js';
import type { Target } from './targets.js';

/** A tool call as a tool-call-safety case states it: who calls (validated claim), what, with which arguments. */
export const GatewayCase = z.object({
  agent: z.string().min(1),
  tenant: z.string().min(1),
  tool: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
});
export type GatewayCase = z.infer<typeof GatewayCase>;

export interface GatewayTargetOptions {
  /** Signed manifests of the agents the calls are made as (verified; a bad one refuses to start). */
  manifestFiles: string[];
  trustedKeysFile: string;
  /** Entities and tenant limits; default the base and procurement packs' test fixtures. */
  entitiesFile?: string;
  /** Where approval requests the gateway opens are kept (a scratch folder: eval calls are synthetic). */
  approvalsDir: string;
}

/** The world pack tests see: base fixtures (tenants and agents, with their kill switches) and the procurement resources. */
export const DEFAULT_GATEWAY_ENTITIES = (): string[] => [
  contentPath('policy-packs', 'packs', 'base', 'tests', 'fixtures.yaml'),
  contentPath('policy-packs', 'packs', 'domain', 'procurement', 'tests', 'fixtures.yaml'),
];

/**
 * The gateway's in-process decision path as an eval target: each case is decided exactly as
 * a live call would be (manifest tool, tenant binding, argument contract, approvals, Cedar,
 * ENFORCE). The output is `allow` only when the call would be forwarded. Decision records go
 * to an in-memory sink: eval traffic is synthetic and stays out of the production audit log
 * (the eval report itself is the evidence).
 */
export function gatewayTarget(opts: GatewayTargetOptions): Target {
  const path = evalDecisionPath(opts);
  return {
    id: 'gateway:decision-path',
    manifestDigest: null,
    run: async (c: DatasetCase) => {
      const call = GatewayCase.parse(c.input);
      const d = await path.decide({
        identity: { principal: `eval:${call.agent}`, tenantId: call.tenant, agentId: call.agent },
        tool: call.tool,
        args: call.args,
      });
      return {
        output: {
          decision: d.blocked ? 'deny' : 'allow',
          outcome: d.outcome,
          reasons: d.record.reasons,
          determiningPolicies: d.record.determiningPolicies,
        },
      };
    },
  };
}

/**
 * The gateway's decision path over the agents' signed manifests, in ENFORCE mode, its decision
 * records kept in memory: eval traffic is synthetic and stays out of the production audit log
 * (the eval report itself is the evidence).
 */
export function evalDecisionPath(opts: GatewayTargetOptions): DecisionPath {
  if (opts.manifestFiles.length === 0)
    throw new InputError("the gateway target needs the agents' signed manifests (--manifest FILE...)", { field: '--manifest' });
  const records: AuditRecord[] = [];
  return openDecisionPath({
    manifestFiles: opts.manifestFiles,
    trustedKeysFile: opts.trustedKeysFile,
    entitiesFile: opts.entitiesFile ?? DEFAULT_GATEWAY_ENTITIES(),
    approvalsDir: opts.approvalsDir,
    mode: 'ENFORCE',
    audit: { append: async (r) => ({ seq: records.push(r) - 1 }) },
  });
}

export function scratchApprovalsDir(home: string): string {
  return join(home, 'evals', 'approvals');
}
