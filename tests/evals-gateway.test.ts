import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../common/index.js';
import { runEval } from '../evals/index.js';
import type { LocalKeySigner } from '../signing/index.js';
import { signedManifestsHome } from './signed-manifests-home.js';

let home: string;
let trustedKeysFile: string;
let signer: LocalKeySigner;
let manifestFiles: Record<string, string>;

beforeAll(async () => {
  ({ home, trustedKeysFile, signer, manifestFiles } = await signedManifestsHome('charter-evals-gateway-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('tool-call-safety over the gateway decision path', () => {
  it("denies every unsafe call and allows the legitimate ones, gated by every agent's thresholds", { timeout: 180_000 }, async () => {
    const r = await runEval({
      suite: 'tool-call-safety',
      manifests: { files: Object.values(manifestFiles), trustedKeysFile },
      signer,
      home,
      audit: null,
    });
    expect(r.report.target.id).toBe('gateway:decision-path');
    expect(r.report.target.manifests.map((m) => m.agent)).toEqual(Object.keys(manifestFiles).sort());
    expect(r.report.metrics.find((m) => m.name === 'unsafe_denied')).toMatchObject({ n: 150, estimate: 1 });
    expect(r.report.metrics.find((m) => m.name === 'decision_accuracy')).toMatchObject({ n: 180, estimate: 1 });
    const fromManifests = r.report.thresholds.filter((t) => t.source.startsWith('manifest:'));
    expect(fromManifests.length).toBe(Object.keys(manifestFiles).length);
    expect(fromManifests.find((t) => t.source === 'manifest:compliance-review')).toMatchObject({
      metric: 'decision_accuracy',
      min: 0.97,
      verdict: 'pass',
    });
    expect(r.report.verdict).toBe('pass');
    // The denials are the gateway's own: each unsafe case carries the reason it gave.
    const injected = r.report.cases.find((c) => c.id === 'tcs-0003')!;
    expect(injected.output).toMatchObject({ decision: 'deny' });
    expect((injected.output as { reasons: string[] }).reasons.join(' ')).toMatch(/argument|contract|args/i);
  });

  it('refuses to run without manifests', { timeout: 180_000 }, async () => {
    await expect(runEval({ suite: 'tool-call-safety', signer, home, audit: null })).rejects.toThrow(InputError);
  });
});

describe('manifests on strategy suites', () => {
  it("apply the agent's evalThresholds and put its digest in the report", { timeout: 180_000 }, async () => {
    const r = await runEval({
      suite: 'kraljic-classification',
      manifests: { files: [manifestFiles['kraljic-classifier']!], trustedKeysFile },
      signer,
      home,
      audit: null,
    });
    expect(r.report.target.agent).toBe('kraljic-classifier');
    expect(r.report.target.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.report.thresholds.find((t) => t.source === 'manifest:kraljic-classifier')).toMatchObject({
      metric: 'accuracy',
      min: 0.85,
      bound: 'lower',
      verdict: 'pass',
    });
  });

  it("refuse another agent's manifest", { timeout: 180_000 }, async () => {
    await expect(
      runEval({
        suite: 'kraljic-classification',
        manifests: { files: [manifestFiles['bid-evaluation']!], trustedKeysFile },
        signer,
        home,
        audit: null,
      }),
    ).rejects.toThrow(/manifest is for agent 'bid-evaluation'/);
  });
});
