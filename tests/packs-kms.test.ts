import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import { addTrustedKeys, trustedKeyFromPublicKey } from '../signing/index.js';
import { startKmsServer, type KmsServer } from './servers/kms.js';

// Manifest signing through the real @aws-sdk/client-kms against a local server speaking the KMS
// JSON protocol. The CLI runs as a child process asynchronously so this process keeps serving.
const run = promisify(execFile);
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const PACKS = join(packageRoot, 'policy-packs', 'fixtures', 'good');
let kms: KmsServer;
let home: string;

async function charter(...args: string[]) {
  const env = {
    ...process.env,
    CHARTER_HOME: home,
    AWS_ENDPOINT_URL_KMS: kms.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  try {
    const r = await run(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

beforeAll(async () => {
  expect(existsSync(CLI), 'build first: npx tsc -p tsconfig.json').toBe(true);
  kms = await startKmsServer(['alias/charter-manifest']);
  home = mkdtempSync(join(tmpdir(), 'charter-kms-'));
});
afterAll(async () => {
  await kms?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('manifest signing with AWS KMS', { timeout: 120_000 }, () => {
  it('signs with kms:<alias>, and the manifest verifies against the KMS public key', async () => {
    const out = join(home, 'reader.manifest.json');
    // compile signs only with a key trusted for manifest: the KMS key's public half is trusted first.
    const trusted = join(home, 'trusted-keys.json');
    addTrustedKeys(trusted, [trustedKeyFromPublicKey(kms.publicKey, 'kms-manifest', ['manifest'])]);
    const r = await charter(
      'packs',
      'compile',
      '--agent',
      'reader',
      '--no-shipped',
      '--packs',
      PACKS,
      '--key',
      'kms:alias/charter-manifest',
      '--trusted-keys',
      trusted,
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.out + r.err).toBe(0);
    const targets = kms.requests.map((q) => q.headers['x-amz-target']);
    expect(targets).toEqual(['TrentService.GetPublicKey', 'TrentService.Sign']);
    expect((kms.requests[1]!.body as { SigningAlgorithm: string }).SigningAlgorithm).toBe('ECDSA_SHA_256');

    const verified = await charter('manifest', 'verify', out, '--trusted-keys', trusted, '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out).signedBy).toEqual(['kms-manifest']);
    expect(JSON.parse(readFileSync(out, 'utf8')).signatures[0].keyid).toBe(JSON.parse(r.out).keyId);
  });

  it('an unknown KMS key is bad input and nothing is written', async () => {
    const out = join(home, 'never.manifest.json');
    const r = await charter(
      'packs',
      'compile',
      '--agent',
      'reader',
      '--no-shipped',
      '--packs',
      PACKS,
      '--key',
      'kms:alias/no-such-key',
      '--out',
      out,
    );
    expect(r.err).toMatch(/Key 'alias\/no-such-key' does not exist/);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
