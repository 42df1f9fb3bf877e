import { z } from 'zod';
import { digestJson } from '../signing/index.js';
import { EvalThreshold, Layer, RiskTier, ToolResource } from './pack-file.js';

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.charter.manifest+json';

export const ManifestTool = z.strictObject({
  name: z.string().min(1),
  tier: RiskTier,
  /** The Cedar action uid, e.g. `Procurement::Action::"submit_bid"`. */
  action: z.string().min(1),
  resource: ToolResource,
  description: z.string(),
  /** JSON Schema (2020-12) of the tool's arguments. */
  args: z.record(z.string(), z.unknown()),
});
export type ManifestTool = z.infer<typeof ManifestTool>;

export const ManifestLayer = z.strictObject({
  name: z.string().min(1),
  layer: Layer,
  version: z.string().min(1),
  digest: Digest,
  files: z.array(z.strictObject({ path: z.string().min(1), sha256: Digest })),
});
export type ManifestLayer = z.infer<typeof ManifestLayer>;

export const ManifestPolicy = z.strictObject({ pack: z.string().min(1), file: z.string().min(1), text: z.string().min(1), sha256: Digest });
export type ManifestPolicy = z.infer<typeof ManifestPolicy>;

/** The signed payload of `charter packs compile` (docs/architecture.md, "Manifest"). */
export const Manifest = z.strictObject({
  apiVersion: z.literal('charter.dev/v1'),
  kind: z.literal('AgentManifest'),
  agent: z.strictObject({
    name: z.string().min(1),
    description: z.string(),
    dagNode: z.string(),
    modelTier: z.enum(['SimpleLLM', 'DefaultLLM']),
    evalThresholds: z.array(EvalThreshold),
  }),
  tools: z.array(ManifestTool),
  layers: z.array(ManifestLayer).min(1),
  policies: z.record(z.string(), ManifestPolicy),
  schema: z.strictObject({ text: z.string(), sha256: Digest }),
  baseDigest: Digest,
  baseChanged: z.boolean().nullable(),
  previousManifestDigest: Digest.nullable(),
  compiler: z.strictObject({ charter: z.string(), cedar: z.string() }),
});
export type Manifest = z.infer<typeof Manifest>;

/** A layer's digest: canonical JSON of its identity and the digest of every file in it. */
export function layerDigest(layer: Omit<ManifestLayer, 'digest'>): string {
  return digestJson({ name: layer.name, layer: layer.layer, version: layer.version, files: layer.files });
}
