/**
 * orchestrator: the seven-node negotiation DAG of the procurement reference (seed 000) with
 * per-tenant admission control, checkpoints keyed tenant_id#negotiation_id, resume, the
 * approval gate, cost attribution, and the same DAG as Step Functions ASL.
 */
export { AdmissionDenied, CheckpointConflict } from './errors.js';
export { NegotiationEntities } from './entities.js';
export { OrchestratorLedger } from './ledger.js';
export { LocalAgents, ORCHESTRATOR_PRINCIPAL } from './local-agents.js';
export { AgentIdentityIssuer, IDENTITY_TOKEN_SECONDS } from './agent-identity.js';
export { startAgentProcesses, type AgentProcesses, type AgentProcessOptions } from './agent-processes.js';
export { AgentSupervisor, type AgentEndpoint, type AgentSupervisorOptions } from './agent-supervisor.js';
export { ProcessAgents } from './process-agents.js';
export { InvocationCredentials } from './invocation-credentials.js';
export { NODE_RETRY, type NodeRetry } from './retry.js';
export {
  Orchestrator,
  type AgentDispatcher,
  type NegotiationEvent,
  type OrchestratorOptions,
  type SupplierDirectory,
} from './orchestrator.js';
export { classificationCacheKey } from './semantic-cache.js';
export { openProcurementStack, type ProcurementStack, type ProcurementStackOptions } from './stack.js';
export { NODE_LABEL, TERMINAL, type NegotiationState, type NegotiationStatus, type NodeName, type StrategyNode } from './state.js';
export { COST_DIMENSIONS, costReport, formatMoney, type CostDimension, type CostLine, type CostReport } from './costs.js';
export { loadPriceTable, modelCostMicros, PriceTableFile, pricesFile, prorate, type PriceTable } from './prices.js';
export { negotiationKey, NegotiationStore, type ApprovalWait, type CostRow, type Lease } from './store.js';
export { admissionDecision, type Admission, type SlotPolicy, type SlotUse } from './admission.js';
export type { Awaitable, RunnerStore } from './runner-store.js';
export { createStoreTables, DynamoNegotiationStore, STORE_TABLES, type DynamoStoreOptions } from './dynamo-store.js';
export { homeStoreOptions, StoreConfig } from './store-config.js';
export { NegotiationRuntime, type ApprovalReminder, type NegotiationRuntimeOptions } from './runtime.js';
export { commandReminder, webhookReminder } from './reminders.js';
export { referenceWorld, sampleRequisition, tenantSuppliers, type ReferenceWorld, type WorldOptions } from './reference-world.js';
export {
  AUCTION_BUSINESS_DAYS,
  calendarDaysSpanned,
  executionTimeoutSeconds,
  exportAsl,
  STEP_FUNCTIONS,
  validateAsl,
  type AslDefinition,
  type AslOptions,
} from './asl.js';
export { completeApprovalTask, sfnTaskCallbacks, StepInvoker, type StepOutput, type TaskCallbacks } from './step-invoker.js';
