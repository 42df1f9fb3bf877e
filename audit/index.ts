export {
  ApprovalUse,
  AuditRecord,
  DecisionRecord,
  EnforcementMode,
  EvidenceRecord,
  RiskTier,
  SealedRecord,
  auditRecordJsonSchema,
  evidenceRecord,
} from './record.js';
export { openAuditLog, type AuditLog, type AuditLogOptions } from './log.js';
export type { ByteRange, SegmentSink, SinkObject } from './sinks/sink.js';
export { LocalDirectorySink } from './sinks/local.js';
export type { AuditQuery, IndexedRecord } from './index-db.js';
export { S3ObjectLockSink, s3ClientFor, type S3ObjectLockSinkOptions } from './sinks/s3.js';
export { verifyAuditLog, type VerifyFinding, type VerifyOptions, type VerifyReport, type FindingKind } from './verify.js';
export { queryAudit } from './query.js';
export { openReader, rebuildIndex, type AuditReadOptions, type AuditReader } from './reader.js';
export { InclusionProof, proveInclusion, verifyInclusionProof, type VerifiedInclusion } from './proof.js';
export { bundleRecords, EvidenceBundle, exportEvidenceBundle, verifyEvidenceBundle, type BundleReport } from './export.js';
export { startLocalObjectLockS3, type LocalObjectLockS3 } from './object-lock-s3/server.js';
export { exampleDecision, exampleEvidence } from './examples.js';
export { sinkFromUri } from './sinks/uri.js';
export { AuditIndex } from './index-db.js';
export { appendMany } from './append-many.js';
export {
  AuditConfig,
  auditSettings,
  homeAuditDir,
  homeAuditStore,
  openHomeAuditLog,
  sinkOf,
  writeAuditSettings,
  type AuditOverrides,
  type HomeAuditOptions,
} from './home.js';
export { cosign, parseVkey, requireCosignatures, vkeyOf, witnessKeysOf, type WitnessKey, type WitnessPolicy } from './cosignature.js';
export { runWitness, witnessStateFile, type WitnessOptions, type WitnessReport } from './cosigner.js';
export { formatTlogProof, parseTlogProof, proveTlog, TLOG_PROOF_HEADER, verifyTlogProof, type TlogProof } from './tlog-proof.js';
