/**
 * gateway: Charter's single enforcement point for agent tool calls. An MCP server (Streamable
 * HTTP on loopback, or in-process) over one decision path: JWT identity, tenant rewriting,
 * argument contracts, approvals, Cedar through the verified manifest, ENFORCE / LOG_ONLY, and
 * one audit record a decision. Also signed agent-to-agent envelopes and per-tenant breakers.
 */
export { EVIDENCE_PAYLOAD_TYPE } from './approval-evidence.js';
export { approvalRefusal, ApproverDirectory, ApproversFile, APPROVERS_FILE } from './approval-scope.js';
export { ApprovalRequest, ApprovalStore, requiredApprovals, withoutTokens, type ApprovalBinding } from './approvals.js';
export { checkApproverScope, type ApproverScopeFiles } from './approver-check.js';
export {
  actToken,
  approverKey,
  localApprover,
  trustedActor,
  type ActToken,
  signApprovalToken,
  signDenialToken,
  verifyApprovalTokens,
  type ApproverKey,
  type ApproverScope,
  type SignedApprovalToken,
  type TokenLedger,
  type VerifiedApprovals,
} from './approval-tokens.js';
export { BreakerFile, breakerEvidence, recordBreakerChanges, type BreakerEntry } from './breaker-file.js';
export { RateLimiter, UpstreamGuard, UpstreamRefused, type RateLimit, type UpstreamGuardOptions } from './breakers.js';
export { ToolContracts, type ContractCheck } from './contracts.js';
export {
  DecisionPath,
  type DecisionData,
  type DecisionPathOptions,
  type DecisionSink,
  type GatewayCall,
  type GatewayDecision,
  type Outcome,
  type StageTimes,
} from './decide.js';
export { EntityDirectory } from './entities.js';
export { changeKillSwitch, declaredAgents, knownId, knownTenants, switchableAgents, switchTarget } from './kill-switch-target.js';
export {
  KillSwitchDoc,
  KillSwitchFile,
  NO_KILL_SWITCHES,
  withKillSwitches,
  type KillSwitchState,
  type SwitchChange,
  type SwitchKind,
} from './kill-switch-file.js';
export {
  AGENT_ENVELOPE_PAYLOAD_TYPE,
  AgentMessage,
  EnvelopeReceiver,
  NonceStore,
  sealAgentMessage,
  type ExpectedMessage,
  type ReceiverPolicy,
} from './envelopes.js';
export { LocalTokenIssuer, type LocalIssuerFiles } from './local-issuer.js';
export { IdentityVerifier, NORMALISED_ID, normaliseId, type CallerIdentity, type IdentityConfig } from './identity.js';
export { HttpRefusal, serveStatelessMcp, SHARED_SCHEMA_VALIDATOR, type LoopbackMcp } from './loopback-mcp.js';
export { connectInProcess, createGatewayServer, inProcessGateway, serveGatewayHttp, type DecisionMeta } from './mcp-server.js';
export { bindTenant, type TenantBinding } from './tenant-args.js';
export { openDecisionPath, type GatewayConfig } from './open.js';
export { LazyMcpClient } from './mcp-http-client.js';
export { DEFAULT_UPSTREAM_GUARD, guardedToolCall, parseUpstreams, upstreamAction, UpstreamPool, type LocalUpstream } from './upstreams.js';
