/**
 * policy-packs: loading, resolving, composing and testing layered Cedar packs, compiling them
 * into signed agent manifests, verifying and diffing manifests, and the runtime PolicyEngine.
 */
export { parseUid, uidText, type CedarEntity, type EntityUid } from './cedar.js';
export { AGENT_TYPE, PolicyEngine, TENANT_TYPE, type CallDecision, type EntityResolver, type PolicySetSource, type ToolCall } from './engine.js';
export { Manifest, MANIFEST_PAYLOAD_TYPE, ManifestLayer, ManifestPolicy, ManifestTool } from './manifest-schema.js';
export { AgentDeclaration, EvalThreshold, Layer, PackFile, RiskTier, ToolDefinition, ToolResource } from './pack-file.js';
export { loadVerifiedManifest, manifestDigestProblems, verifyManifestEnvelope, type VerifiedManifest } from './verify.js';
