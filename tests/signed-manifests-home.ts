import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentPath, writeFileAtomic } from '../common/index.js';
import { compileManifest, envelopeText, signManifest, Workspace } from '../policy-packs/index.js';
import { addTrustedKeys, generateEd25519Key, loadPrivateKey, LocalKeySigner } from '../signing/index.js';

export interface SignedManifestsHome {
  home: string;
  trustedKeysFile: string;
  /** Signs eval reports (key purpose `eval-report`). */
  signer: LocalKeySigner;
  /** Every shipped agent's manifest file, by agent name. */
  manifestFiles: Record<string, string>;
}

/**
 * A fresh home (set as CHARTER_HOME) holding a manifest key and an eval-report key, both trusted,
 * and every agent's manifest compiled from the shipped packs and signed, as `charter packs compile
 * --all` does. The eval suites over the gateway decision path run on it.
 */
export async function signedManifestsHome(prefix: string): Promise<SignedManifestsHome> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  process.env.CHARTER_HOME = home;
  const trustedKeysFile = join(home, 'keys', 'trusted-keys.json');
  const manifestKey = generateEd25519Key(join(home, 'keys'), 'manifest-signer', ['manifest']);
  const reportKey = generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']);
  addTrustedKeys(trustedKeysFile, [manifestKey.trusted, reportKey.trusted]);
  const ws = new Workspace(contentPath('policy-packs', 'packs'));
  const manifestSigner = new LocalKeySigner(loadPrivateKey(manifestKey.privateKeyFile));
  const manifestFiles: Record<string, string> = {};
  for (const agent of ws.catalog.agents()) {
    const file = join(home, 'manifests', `${agent}.manifest.json`);
    writeFileAtomic(file, envelopeText(await signManifest(compileManifest(ws, agent), manifestSigner)));
    manifestFiles[agent] = file;
  }
  return { home, trustedKeysFile, signer: new LocalKeySigner(loadPrivateKey(reportKey.privateKeyFile)), manifestFiles };
}
