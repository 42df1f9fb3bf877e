import { readFileSync } from 'node:fs';
import { canonicalJson, digestOf, signEnvelope, type DsseEnvelope, type Signer } from '../signing/index.js';
import { contentPath } from '../common/index.js';
import { cedar } from './cedar.js';
import { layerDigest, MANIFEST_PAYLOAD_TYPE, type Manifest, type ManifestLayer } from './manifest-schema.js';
import type { Workspace } from './workspace.js';

export interface CompiledManifest {
  manifest: Manifest;
  /** Canonical JSON bytes of the manifest: the DSSE payload. */
  payload: Buffer;
  /** `sha256:` of the payload: the manifest digest. */
  digest: string;
}

const charterVersion: string = (JSON.parse(readFileSync(contentPath('package.json'), 'utf8')) as { version: string }).version;

/**
 * Compiles an agent's manifest from a packs folder. Everything in it derives from the input
 * files (no timestamps), so the same inputs give byte-identical output.
 */
export function compileManifest(ws: Workspace, agent: string, previous?: { manifest: Manifest; digest: string }): CompiledManifest {
  const { set } = ws.agentSet(agent);
  const decl = set.agent!;
  const layers: ManifestLayer[] = set.packs.map((p) => {
    const layer = { name: p.meta.name, layer: p.meta.layer, version: p.meta.version, files: p.files };
    return { ...layer, digest: layerDigest(layer) };
  });
  const policies: Manifest['policies'] = {};
  for (const id of [...set.policies.keys()].sort()) {
    const p = set.policies.get(id)!;
    policies[id] = { pack: p.pack, file: p.file, text: p.text, sha256: digestOf(p.text) };
  }
  const baseDigest = layers.find((l) => l.layer === 'base')!.digest;
  const manifest: Manifest = {
    apiVersion: 'charter.dev/v1',
    kind: 'AgentManifest',
    agent: { name: decl.name, description: decl.description, dagNode: decl.dagNode, modelTier: decl.modelTier, evalThresholds: decl.evalThresholds },
    tools: set.tools,
    layers,
    policies,
    schema: { text: set.schemaText, sha256: digestOf(set.schemaText) },
    baseDigest,
    baseChanged: previous ? previous.manifest.baseDigest !== baseDigest : null,
    previousManifestDigest: previous?.digest ?? null,
    compiler: { charter: charterVersion, cedar: cedar.getCedarVersion() },
  };
  const payload = Buffer.from(canonicalJson(manifest), 'utf8');
  return { manifest, payload, digest: digestOf(payload) };
}

export function signManifest(compiled: CompiledManifest, signer: Signer): Promise<DsseEnvelope> {
  return signEnvelope(MANIFEST_PAYLOAD_TYPE, compiled.payload, [signer]);
}

/** Envelope file text: pretty JSON (the signature covers the payload bytes, not this layout). */
export function envelopeText(envelope: DsseEnvelope): string {
  return JSON.stringify(envelope, null, 2) + '\n';
}
