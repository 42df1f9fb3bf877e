// The agents' deterministic strategies (pure functions, no I/O).
export * from './strategies/index.js';

// The eight governed agents: definitions, factory, tenant context, config, models, tool path.
export {
  describeProducer,
  GovernedAgent,
  type AgentContext,
  type AgentDefinition,
  type AgentManifestView,
  type AgentOutput,
  type AgentResult,
  type AgentUsage,
  type InvokeOptions,
  type ModelTask,
  type ProducedBy,
  type SettledLoop,
  ModelAnswerError,
} from './agent.js';
export {
  AgentConfig,
  AgentConfigOverride,
  resolveAgentConfig,
  SAFE_DEFAULTS,
  StaticConfigStore,
  ConfigFile,
  type ConfigStore,
  type ModelLoopBounds,
  type ResolvedConfig,
} from './config.js';
export { AGENT_DEFINITIONS, AGENT_NAMES, type AgentName } from './definitions/index.js';
export { AgentFactory, type AgentFactoryOptions } from './factory.js';
export { mcpToolChannel, toolValue, type McpChannelOptions } from './mcp-channel.js';
export { listenLoopback, type Listening as RunningServer } from '../common/index.js';
export { inProcessTools, serveMcpTools } from './mcp-tool-server.js';
export {
  ConverseToolModel,
  DEFAULT_MODEL_GUARD,
  defaultModelGuard,
  modelForTier,
  OPENAI_PREFIX,
  OpenAiToolModel,
  toolUseModel,
  type ModelClients,
  type ModelTier,
  type OpenAiEndpoint,
} from './model-provider.js';
export {
  runToolLoop,
  type LoopCall,
  type LoopEnd,
  type LoopMessage,
  type LoopRun,
  type ModelTurn,
  type ProposedCall,
  type ToolSpec,
  type ToolUseModel,
  type TurnRequest,
} from './model-loop.js';
export {
  bidRef,
  entityRef,
  idempotencyKey,
  parseEntityRef,
  QUADRANT_CODE,
  QuotedBid,
  QuoteRound,
  Requisition,
  RequisitionLine,
  Supplier,
  type NegotiationStatusCode,
  type QuadrantCode,
} from './procurement.js';
export { SimulatedSupplier, SupplierNetwork, type SimulatedSupplierInput } from './suppliers/simulated-suppliers.js';
export { currentTenant, runWithTenant, type TenantContext } from './tenant-context.js';
export {
  ToolDeniedError,
  ToolFailedError,
  Toolbox,
  type ToolChannel,
  type ToolChannelFactory,
  type ToolDecision,
  type ToolResult,
} from './toolbox.js';
export type { LedgerDocumentKind, NegotiationView, ProcurementLedger } from './tools/ledger.js';
export { procurementTools } from './tools/procurement-tools.js';
export { DEFAULT_SUPPLIER_CLIENT, SupplierClient, type SupplierClientOptions } from './tools/supplier-client.js';
export { AgentCoreAgents } from './runtime/agentcore-client.js';
export {
  ENVELOPE_HEADER,
  IDENTITY_HEADER,
  InvocationPayload,
  serveAgentCoreRuntime,
  SESSION_HEADER,
  type InvocationHandler,
  type InvocationRequest,
  type SessionState,
} from './runtime/agentcore-server.js';
export {
  agentAnswerError,
  DEFAULT_AGENT_RUNTIME_GUARD,
  defaultAgentRuntimeGuard,
  parseAgentAnswer,
  runtimeInvocation,
  type InvocationAuth,
  type RuntimeInvocation,
} from './runtime/invocation.js';
export { AGENT_IDENTITY, serveAgentHost, type AgentHostOptions } from './runtime/agent-host.js';
export {
  envelopeHeader,
  INVOCATION_ENVELOPE,
  InvocationGate,
  sealInvocation,
  type InvocationGateOptions,
} from './runtime/invocation-envelope.js';
