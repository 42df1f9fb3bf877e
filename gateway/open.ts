import { InputError } from '../common/index.js';
import { loadTrustedKeys } from '../signing/index.js';
import type { EnforcementMode } from '../audit/index.js';
import { loadVerifiedManifest, type VerifiedManifest } from '../policy-packs/index.js';
import { ApprovalStore } from './approvals.js';
import { ApproverDirectory } from './approval-scope.js';
import { RateLimiter, type RateLimit } from './breakers.js';
import { DecisionPath, type DecisionSink } from './decide.js';
import { EntityDirectory } from './entities.js';
import { withKillSwitches, type KillSwitchState } from './kill-switch-file.js';

export interface GatewayConfig {
  /** Signed agent manifests, one per agent. */
  manifestFiles: string[];
  /** Trusted keys: `manifest` keys verify manifests, `approval` keys verify approval tokens. */
  trustedKeysFile: string;
  /** Entities and tenant limits (the fixtures.yaml shape); several files are merged. */
  entitiesFile: string | readonly string[];
  audit: DecisionSink;
  mode?: EnforcementMode;
  /** Default `$CHARTER_HOME/approvals`. */
  approvalsDir?: string;
  rateLimit?: RateLimit;
  /**
   * Who may approve what (approvers.yaml: tenants, spend limit, roles), checked against the
   * trusted keys' `approval` names. None: every approval is refused.
   */
  approversFile?: string;
  /** Kill switches laid over the entities' own `suspended` states (e.g. the home's kill-switches.yaml). */
  killSwitches?: KillSwitchState;
}

/**
 * Builds the decision path from files. Every manifest is verified first: an unverifiable or
 * tampered manifest throws (FindingError) and the gateway does not start.
 */
export function openDecisionPath(config: GatewayConfig): DecisionPath {
  if (config.manifestFiles.length === 0) throw new InputError('at least one --manifest is required', { field: '--manifest' });
  const manifests: VerifiedManifest[] = [];
  const byAgent = new Map<string, string>();
  for (const file of config.manifestFiles) {
    const verified = loadVerifiedManifest(file, config.trustedKeysFile);
    const agent = verified.manifest.agent.name;
    const other = byAgent.get(agent);
    if (other) throw new InputError(`agent '${agent}' has two manifests: ${other} and ${file}`, { file });
    byAgent.set(agent, file);
    manifests.push(verified);
  }
  const trusted = loadTrustedKeys(config.trustedKeysFile);
  return new DecisionPath({
    manifests,
    data: config.killSwitches
      ? withKillSwitches(EntityDirectory.load(config.entitiesFile), config.killSwitches)
      : EntityDirectory.load(config.entitiesFile),
    audit: config.audit,
    approvals: new ApprovalStore(config.approvalsDir),
    trustedKeys: trusted,
    approvers: config.approversFile
      ? ApproverDirectory.load(config.approversFile, trusted)
      : ApproverDirectory.none('the gateway was started without an approvers file'),
    ...(config.mode ? { mode: config.mode } : {}),
    ...(config.rateLimit ? { rateLimiter: new RateLimiter(config.rateLimit) } : {}),
  });
}
