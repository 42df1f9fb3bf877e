import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { contentPath } from '../common/index.js';
import { FIXTURE_ENTITIES, FIXTURE_PACKS, openGatewayHarness, type GatewayHarness } from './gateway-harness.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

const CLI = contentPath('dist', 'cli', 'main.js');

let h: GatewayHarness;
let idp: JwksServer;
let upstream: ToolServer;

beforeAll(async () => {
  // The CLI is the built one (npm test builds first); without it this suite fails, it does not skip.
  expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  h = await openGatewayHarness();
  idp = await startJwksServer();
  upstream = await startToolServer(['list_suppliers']);
  // The gateway loads released manifests only: release the harness's manifest to dev (no gate
  // is tested here), its record in an audit log of its own (the harness holds the home's).
  for (const args of [
    ['keys', 'generate', '--name', 'release-signer', '--purpose', 'release-record'],
    ['keys', 'generate', '--name', 'sec-oncall', '--purpose', 'operator'],
    [
      'release',
      'promote',
      '--env',
      'dev',
      '--manifest',
      h.manifestFile,
      '--gates',
      contentPath('release-gates', 'fixtures', 'gates-off'),
      '--audit-dir',
      join(h.home, 'release-audit'),
    ],
  ]) {
    const r = charter(...args);
    expect(r.code, r.stderr).toBe(0);
  }
  // The tenants `charter killswitch` knows.
  writeFileSync(join(h.home, 'tenants.yaml'), 'tenants:\n  acme: {}\n  globex: {}\n');
}, 60_000);
afterAll(async () => {
  await upstream?.close();
  await idp?.close();
  await h?.close();
});

function charter(...args: string[]) {
  const out = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: h.home }, encoding: 'utf8' });
  return {
    code: out.status,
    stdout: out.stdout,
    stderr: out.stderr, // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read arbitrary fields of the CLI's JSON
    json: () => JSON.parse(out.stdout) as Record<string, any>,
  };
}

describe('charter approvals', () => {
  test('request, approve, show, list, deny and expire, with --json and exit codes', () => {
    const args = JSON.stringify({ tenant_id: 'acme', negotiationId: 'acme-n1', supplierId: 'acme-s8' });
    const req = charter(
      'approvals',
      'request',
      '--tenant',
      'acme',
      '--agent',
      'spot-bidding',
      '--tool',
      'award_contract',
      '--tier',
      'write-high',
      '--args',
      args,
      '--packs',
      FIXTURE_PACKS,
      '--json',
    );
    expect(req.code, req.stderr).toBe(0);
    const id = req.json().request.id as string;
    expect(req.json().request.status).toBe('pending');

    const approve = charter('approvals', 'approve', id, '--as', 'alice', '--key', join(h.home, 'keys', 'alice.key.pem'), '--json');
    expect(approve.code).toBe(0);
    expect(approve.json().request.status).toBe('approved');
    expect(approve.json().request.approvals[0].token).toBeUndefined();

    const again = charter('approvals', 'approve', id, '--as', 'alice', '--key', join(h.home, 'keys', 'alice.key.pem'), '--json');
    expect(again.code).toBe(1);
    expect(again.json().error.message).toMatch(/already approved/);

    expect(charter('approvals', 'show', id, '--json').json().request.approvals[0].approver).toBe('alice');
    expect(
      charter('approvals', 'list', '--status', 'approved', '--json')
        .json()
        .requests.map((r: { id: string }) => r.id),
    ).toContain(id);
    const deny = charter('approvals', 'deny', id, '--key', join(h.home, 'keys', 'bob.key.pem'), '--reason', 'wrong supplier', '--json');
    expect(deny.json().request.status).toBe('denied');
    expect(charter('approvals', 'expire', '--json').code).toBe(0);

    const unknown = charter('approvals', 'show', '01a20184-f26c-77ec-ba9a-62626ced6c81');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no approval request/);
    expect(
      charter('approvals', 'request', '--tenant', 'acme', '--agent', 'a', '--tool', 't', '--tier', 'write-high', '--args', '[1]').code,
    ).toBe(2);
    expect(charter('approvals', 'request', '--tenant', 'acme', '--agent', 'a', '--tool', 't', '--tier', 'read', '--args', '{}').code).toBe(
      2,
    );
  }, 180_000); // eleven CLI processes; each start loads every command group
});

describe('charter gateway serve', () => {
  const serveArgs = (manifest: string, extra: string[] = []) => [
    'gateway',
    'serve',
    '--env',
    'dev',
    '--manifest',
    manifest,
    '--trusted-keys',
    h.trustedKeysFile,
    '--entities',
    FIXTURE_ENTITIES,
    '--upstream',
    `Procurement::list_suppliers=${upstream.url}`,
    '--jwks',
    idp.url,
    '--issuer',
    idp.issuer,
    '--audience',
    idp.audience,
    '--audit-dir',
    join(h.home, 'cli-audit'),
    '--port',
    '0',
    ...extra,
  ];

  test('refuses to start on a tampered manifest (exit 1) and on a bad mode (exit 2)', () => {
    const env = JSON.parse(readFileSync(h.manifestFile, 'utf8')) as { payload: string };
    const tampered = join(h.home, 'manifests', 'cli-tampered.json');
    const payload = Buffer.from(env.payload, 'base64').toString('utf8').replace('"modelTier":"SimpleLLM"', '"modelTier":"DefaultLLM"');
    writeFileSync(tampered, JSON.stringify({ ...env, payload: Buffer.from(payload).toString('base64') }));
    const bad = charter(...serveArgs(tampered), '--json');
    expect(bad.code).toBe(1);
    expect(bad.json().error.message).toMatch(/cli-tampered.json/);
    expect(charter(...serveArgs(h.manifestFile, ['--mode', 'PERMISSIVE'])).code).toBe(2);
    // A valid manifest that is not released where the gateway serves is refused too.
    const unreleased = charter(...serveArgs(h.manifestFile, ['--env', 'stg']), '--json');
    expect(unreleased.code).toBe(1);
    expect(unreleased.json().error.message).toMatch(/spot-bidding has no release in stg: refusing to load an unreleased manifest/);
  }, 60_000);

  test("serves MCP to an agent, honours the home's kill switches without a restart, and stops cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, [CLI, ...serveArgs(h.manifestFile), '--json'], { env: { ...process.env, CHARTER_HOME: h.home } });
    try {
      // --json prints one (indented) JSON document once the gateway listens.
      const lines = createInterface({ input: child.stdout });
      const started = await new Promise<string>((resolve, reject) => {
        let text = '';
        lines.on('line', (line) => {
          text += line;
          if (line === '}') resolve(text);
        });
        child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
      });
      const { url } = JSON.parse(started) as { url: string };
      const token = await idp.issue({ sub: 'svc', tenantId: 'acme', agentId: 'spot-bidding' });
      const client = new Client({ name: 'agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      const r = (await client.callTool({ name: 'list_suppliers', arguments: {} })) as CallToolResult;
      expect(r.isError).toBeFalsy();
      expect(JSON.parse((r.content[0] as { text: string }).text).args.tenant_id).toBe('acme');
      // The home's kill switch acts on the running gateway's next decision.
      const key = (name: string) => join(h.home, 'keys', `${name}.key.pem`);
      expect(charter('killswitch', 'engage', '--tenant', 'acme', '--key', key('sec-oncall'), '--reason', 'incident').code).toBe(0);
      const suspended = (await client.callTool({ name: 'list_suppliers', arguments: {} })) as CallToolResult;
      expect(suspended).toMatchObject({ isError: true, content: [{ text: expect.stringContaining('base.suspended-tenant') }] });
      expect(charter('killswitch', 'release', '--tenant', 'acme', '--key', key('alice'), '--reason', 'resolved').code).toBe(0);
      expect(((await client.callTool({ name: 'list_suppliers', arguments: {} })) as CallToolResult).isError).toBeFalsy();
      await client.close();
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
