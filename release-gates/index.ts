/**
 * release-gates: gate definitions per environment (dev -> stg -> prod), evidence checks (tests,
 * secrets, Cedar findings, dependency audit, evals, decision replay, canary, approvals), signed
 * release records in the store and the audit plane, promotion and rollback, and deploy: the
 * local loader of released manifests, AgentCore control-plane deploy and Terraform.
 */
export {
  checkRelease,
  currentRelease,
  releaseContext,
  type CheckReport,
  type ReleaseContext,
  type ReleaseOptions,
} from './check-release.js';
export { cedarFindings, type CedarFinding } from './cedar-findings.js';
export {
  defaultEnvironmentsDir,
  Environment,
  GateDefinition,
  loadGateDefinition,
  parseEnvironment,
  PROMOTION_ORDER,
} from './gate-definition.js';
export type { CheckOutcome, CheckStatus, GateName, GateResult, Waiver } from './gate-result.js';
export { candidateFiles, candidateFromLowerEnvironment, promote, rollback, type ReleaseOutcome, type WriteOptions } from './promote.js';
export { approveRelease } from './approve.js';
export { RELEASE_APPROVAL_PAYLOAD_TYPE, ReleaseApproval, signReleaseApproval } from './release-approval.js';
export { RELEASE_RECORD_PAYLOAD_TYPE, ReleaseRecord, verifyReleaseRecord, type SignedReleaseRecord } from './release-record.js';
export { ReleaseStore } from './release-store.js';
export { loadReleasedManifest, verifyReleasedManifestFile, type ReleasedManifest } from './released-manifest.js';
export { checkSecrets, scanText, shannonEntropy, type SecretFinding } from './secret-scan.js';
export { replayDecisions, type ReplayData, type ReplayFlip, type ReplayInput, type ReplayResult } from './replay.js';
export {
  planAgentCore,
  targetOf,
  type AgentCorePlan,
  type AgentCoreSettings,
  type GatewayPolicyMode,
  type PlannedTarget,
  type Tenancy,
} from './agentcore-plan.js';
export { deployToAgentCore, type AgentCoreDeployment, type DeployAction, type DeployOptions } from './agentcore-deploy.js';
export { deployRelease, planRelease, releaseTerraform, tenancies } from './deploy-release.js';
export { checkTerraform, terraformForPlans, type TerraformJson } from './terraform.js';
