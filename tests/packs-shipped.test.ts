import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';
import { compileManifest, PolicyEngine, runPackTests, signManifest, verifyManifestEnvelope, Workspace } from '../policy-packs/index.js';
import { LocalKeySigner, trustedKeyFromPublicKey } from '../signing/index.js';

// End to end over the packs Charter ships (policy-packs/packs): the "done when".
const ws = new Workspace(contentPath('policy-packs', 'packs'));

// Generous timeouts: these run the whole corpus on a two-core machine that other work shares.
describe('shipped packs', { timeout: 240_000 }, () => {
  it('pass every test with 100% policy coverage over at least 300 cases', () => {
    const report = runPackTests(ws);
    expect(report.failures.map((f) => `${f.run} ${f.set} ${f.key}: ${f.decision} [${f.determining.join(', ')}]`)).toEqual([]);
    expect(report.cases.length).toBeGreaterThanOrEqual(300);
    expect(report.policies.filter((p) => p.hits === 0).map((p) => p.id)).toEqual([]);
    expect(report.coveragePercent).toBe(100);
  });

  it('declare the eight agents of the reference workload', () => {
    expect(ws.catalog.agents()).toHaveLength(8);
  });

  it('compile every agent deterministically into manifests that sign, verify and load into an engine', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = new LocalKeySigner(privateKey);
    const trusted = { keys: [trustedKeyFromPublicKey(publicKey, 'test', ['manifest'])] };
    for (const agent of ws.catalog.agents()) {
      const a = compileManifest(ws, agent);
      const b = compileManifest(new Workspace(contentPath('policy-packs', 'packs')), agent);
      expect(b.payload.equals(a.payload), agent).toBe(true);
      const envelope = await signManifest(a, signer);
      const verified = verifyManifestEnvelope(envelope, trusted, { packs: new Workspace(contentPath('policy-packs', 'packs')) });
      expect(verified.digest).toBe(a.digest);
      const engine = PolicyEngine.fromManifest(verified.manifest, verified.digest);
      expect(engine.toolNames().sort()).toEqual(verified.manifest.tools.map((t) => t.name));
    }
  });
});
