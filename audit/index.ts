export {
  ApprovalUse,
  AuditRecord,
  DecisionRecord,
  EnforcementMode,
  EvidenceRecord,
  RiskTier,
  auditRecordJsonSchema,
} from './record.js';
