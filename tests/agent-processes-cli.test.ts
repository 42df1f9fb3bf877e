import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_HEADER, envelopeHeader, IDENTITY_HEADER, INVOCATION_ENVELOPE, sealInvocation, SESSION_HEADER } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { AgentIdentityIssuer } from '../orchestrator/index.js';
import { loadVerifiedManifest } from '../policy-packs/index.js';
import { LocalKeySigner, loadPrivateKey } from '../signing/index.js';

/** `charter agents serve` through the built CLI: bad input, and one agent process's life cycle. */
const CLI = contentPath('dist', 'cli', 'main.js');
let home: string;
let manifest: string;

function charter(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: home, ...env }, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'charter-agents-cli-'));
  for (const args of [
    ['keys', 'generate', '--name', 'manifest-signer', '--purpose', 'manifest'],
    ['keys', 'generate', '--name', INVOCATION_ENVELOPE.sender, '--purpose', 'agent-envelope'],
    ['packs', 'compile', '--agent', 'kraljic-classifier'],
  ]) {
    const r = charter(args);
    expect(r.code, r.stderr).toBe(0);
  }
  manifest = join(home, 'manifests', 'kraljic-classifier.manifest.json');
}, 120_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('charter agents serve', () => {
  it('refuses bad input (exit 2 naming the flag or file) and an unreleased manifest (exit 1)', async () => {
    const serve = (...extra: string[]) => charter(['agents', 'serve', '--gateway-url', 'http://127.0.0.1:9/mcp', ...extra]);
    expect(serve('--agent', 'nope')).toMatchObject({ code: 2, stderr: expect.stringMatching(/\(--agent\): unknown agent 'nope'/) });
    expect(charter(['agents', 'serve', '--agent', 'kraljic-classifier', '--gateway-url', 'not-a-url'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/\(--gateway-url\)/),
    });
    expect(serve('--agent', 'kraljic-classifier', '--port', '70000')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/\(--port\): --port must be 0-65535/),
    });
    expect(serve('--agent', 'kraljic-classifier')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/\(--env\): give --env \(serve the released manifest\) or --manifest FILE/),
    });
    expect(serve('--agent', 'spot-bidding', '--manifest', join(home, 'manifests', 'spot-bidding.manifest.json'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/spot-bidding\.manifest\.json/),
    });
    // Nothing is released in this home: the runtime loads no unreleased manifest.
    expect(serve('--agent', 'kraljic-classifier', '--env', 'prod')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/kraljic-classifier has no release in prod/),
    });
    // No identity JWKS yet: the orchestrator has never started agent processes in this home.
    expect(serve('--agent', 'kraljic-classifier', '--manifest', manifest)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/agent-identity\.jwks\.json.*no agent identity JWKS/),
    });
  }, 120_000);

  it('serves one agent: prints its URL, answers /ping, refuses an invocation without a valid token, stops on SIGTERM', async () => {
    const issuer = await AgentIdentityIssuer.open(home);
    const child = spawn(
      process.execPath,
      [CLI, 'agents', 'serve', '--agent', 'kraljic-classifier', '--gateway-url', 'http://127.0.0.1:9/mcp', '--manifest', manifest],
      { env: { ...process.env, CHARTER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        void exited.then((code) => reject(new Error(`agents serve exited with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/ping`)).json()).toMatchObject({ status: 'Healthy' });
      const payload = { tenantId: 'acme', input: {} };
      const invoke = (headers: Record<string, string>) =>
        fetch(`${url}/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SESSION_HEADER]: 'acme.n1.kraljic-classifier'.padEnd(33, '.'), ...headers },
          body: JSON.stringify(payload),
        });
      expect((await invoke({})).status).toBe(401);
      // Signed by a key the home's JWKS does not hold.
      const other = mkdtempSync(join(tmpdir(), 'charter-agents-cli-other-'));
      try {
        const forged = await (await AgentIdentityIssuer.open(other)).mint('acme', 'kraljic-classifier');
        const res = await invoke({ [IDENTITY_HEADER]: forged });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: string }).error).toMatch(/token rejected/);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
      // A valid token without the orchestrator's envelope is refused before the agent acts.
      const unsealed = await invoke({ [IDENTITY_HEADER]: await issuer.mint('acme', 'kraljic-classifier') });
      expect(unsealed.status).toBe(403);
      expect(((await unsealed.json()) as { error: string }).error).toMatch(/envelope refused: the invocation carries none/);
      // With both, the agent then validates its input (400 names the field).
      const signer = new LocalKeySigner(loadPrivateKey(INVOCATION_ENVELOPE.keyFile(home)));
      const digest = loadVerifiedManifest(manifest, join(home, 'keys', 'trusted-keys.json')).digest;
      const bad = await invoke({
        [IDENTITY_HEADER]: await issuer.mint('acme', 'kraljic-classifier'),
        [ENVELOPE_HEADER]: envelopeHeader(await sealInvocation(signer, 'kraljic-classifier', digest, payload)),
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/kraljic-classifier input \(categoryId\)/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it('--supervised: stops when its stdin closes (the supervisor died), never left orphaned', async () => {
    await AgentIdentityIssuer.open(home);
    const child = spawn(
      process.execPath,
      [
        CLI,
        'agents',
        'serve',
        '--agent',
        'kraljic-classifier',
        '--gateway-url',
        'http://127.0.0.1:9/mcp',
        '--manifest',
        manifest,
        '--supervised',
      ],
      { env: { ...process.env, CHARTER_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    child.stdin!.end();
    expect(await exited).toBe(0);
  }, 60_000);
});
