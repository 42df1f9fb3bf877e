export {
  ApprovalUse,
  AuditRecord,
  DecisionRecord,
  EnforcementMode,
  EvidenceRecord,
  RiskTier,
  SealedRecord,
  auditRecordJsonSchema,
} from './record.js';
export { openAuditLog, type AuditLog, type AuditLogOptions } from './log.js';
export type { SegmentSink, SinkObject } from './sinks/sink.js';
export { LocalDirectorySink } from './sinks/local.js';
export type { AuditQuery, IndexedRecord } from './index-db.js';
