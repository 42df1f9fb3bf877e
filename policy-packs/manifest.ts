import { readFileSync } from 'node:fs';
import { canonicalJson, digestOf, signEnvelope, type DsseEnvelope, type Signer } from '../signing/index.js';
import { contentPath, FindingError } from '../common/index.js';
import { runRegression } from './run-tests.js';
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
const cedarVersion = cedar.getCedarVersion();

/**
 * Compiles an agent's manifest from a packs folder. Everything in it derives from the input
 * files (no timestamps), so the same inputs give byte-identical output.
 */
export function compileManifest(ws: Workspace, agent: string, previous?: { manifest: Manifest; digest: string }): CompiledManifest {
  const sut = ws.agentSet(agent);
  const { set } = sut;
  // Composition rule 1: no base or domain test's expected deny may become allow in this set.
  const broken = runRegression(ws, sut).filter((c) => !c.pass);
  if (broken.length > 0) {
    const lines = broken.map(
      (c) => `${c.file}: test "${c.test}" expects deny, agent ${agent} allows ${c.tool} (by ${c.determining.join(', ')})`,
    );
    throw new FindingError(`agent ${agent} breaks ${broken.length} base/domain test(s): ${lines[0]}`, undefined, lines.slice(1));
  }
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
    agent: {
      name: decl.name,
      description: decl.description,
      dagNode: decl.dagNode,
      modelTier: decl.modelTier,
      evalThresholds: decl.evalThresholds,
    },
    tools: set.tools,
    layers,
    policies,
    schema: { text: set.schemaText, sha256: digestOf(set.schemaText) },
    baseDigest,
    baseChanged: previous ? previous.manifest.baseDigest !== baseDigest : null,
    previousManifestDigest: previous?.digest ?? null,
    compiler: { charter: charterVersion, cedar: cedarVersion },
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
