/**
 * policy-packs: loading, resolving, composing and testing layered Cedar packs, compiling them
 * into signed agent manifests, verifying and diffing manifests, and the runtime PolicyEngine.
 */
export { parseUid, uidText, type CedarEntity, type EntityUid } from './cedar.js';
export { composeSet, type ComposedSet } from './compose.js';
export { FIXTURE_AGENT, type CorpusCase } from './corpus.js';
export { DecisionCache, type DecisionCacheOptions } from './decision-cache.js';
export { diffManifests, manifestCorpus, type DecisionChange, type ManifestDiff, type ManifestSide } from './diff.js';
export {
  AGENT_TYPE,
  APPROVAL_GROUP,
  APPROVER_TYPE,
  PolicyEngine,
  TENANT_TYPE,
  type CallDecision,
  type EntityResolver,
  type PolicySetSource,
  type ToolCall,
} from './engine.js';
export { FixtureStore } from './fixtures.js';
export { loadPacks, PACK_FILE_LIMITS, type LoadedPack } from './load.js';
export { compileManifest, envelopeText, signManifest, type CompiledManifest } from './manifest.js';
export { Manifest, MANIFEST_PAYLOAD_TYPE, ManifestLayer, ManifestPolicy, ManifestTool } from './manifest-schema.js';
export {
  AgentDeclaration,
  EvalThreshold,
  FixturesFile,
  Layer,
  PackFile,
  RiskTier,
  TestsFile,
  ToolDefinition,
  ToolResource,
  ToolsFile,
} from './pack-file.js';
export { PackCatalog, resolvePackSet } from './resolve.js';
export { scaffoldIntentPack, type ScaffoldedPack, type ScaffoldOptions } from './scaffold.js';
export {
  runPackTests,
  testFilter,
  type CaseResult,
  type PackCoverage,
  type PolicyCoverage,
  type TestReport,
  type TestSelector,
} from './run-tests.js';
export { loadVerifiedManifest, manifestSourceProblems, verifyManifestEnvelope, type VerifiedManifest } from './verify.js';
export { Workspace, type PackSearchPath, type SetUnderTest } from './workspace.js';
