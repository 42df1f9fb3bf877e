export {
  CharterError,
  ErrorCode,
  ExitCode,
  FindingError,
  InputError,
  errorMessage,
  errorWithCauses,
  formatLocation,
  type SourceLocation,
} from './errors.js';
export {
  formatFieldPath,
  offsetToLineColumn,
  parseJson,
  parseYaml,
  readJson,
  readText,
  readYaml,
  validateWith,
  yamlLineOf,
} from './input.js';
export { writeFileAtomic } from './files.js';
export { charterHome, compiledManifestAgents, compiledManifestFile, compiledManifestsDir, contentPath, packageRoot } from './paths.js';
export { listenLoopback, readBoundedBody, type BoundedBody, type Listening } from './loopback-http.js';
export { inTransaction, openSqlite, type OpenSqliteOptions, type SqliteDatabase } from './sqlite.js';
export {
  allowEgress,
  egressAllowedFor,
  egressDecision,
  egressRules,
  installEgressGuard,
  isLoopbackHost,
  parseEgressRule,
  type EgressGuardOptions,
  type EgressRule,
} from './egress.js';
export { DEFAULT_HOME_CONFIG, homeConfigFile, homeConfigSchema, readHomeConfig, type HomeConfig } from './home-config.js';
export {
  BREAKERS,
  BreakerBoard,
  UpstreamGuard,
  UpstreamRefused,
  type BreakerChange,
  type BreakerState,
  type BreakerStatus,
  type UpstreamGuardOptions,
} from './breakers.js';
export {
  activeTraceId,
  ATTR,
  contextFrom,
  inSpan,
  negotiationContext,
  negotiationTraceId,
  otlpTracesEndpoint,
  startTracing,
  traceCarrier,
  tracer,
  type Tracing,
} from './telemetry.js';
export {
  BREAKER_STATE_VALUE,
  countAdmissionRefusal,
  countDecision,
  METRIC,
  METRIC_ATTR,
  metricsEnabled,
  observeApprovalQueue,
  otlpMetricsEndpoint,
  recordSealLag,
  startMetrics,
  type ApprovalQueue,
  type Metrics,
} from './metrics.js';
