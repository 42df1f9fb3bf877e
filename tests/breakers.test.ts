import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { AgentCoreAgents, ConverseToolModel, listenLoopback } from '../agents/index.js';
import { S3ObjectLockSink, startLocalObjectLockS3, type AuditRecord, type LocalObjectLockS3 } from '../audit/index.js';
import { BREAKERS, UpstreamRefused, type BreakerChange, type UpstreamGuardOptions } from '../common/index.js';
import { BreakerFile, recordBreakerChanges, upstreamAction, UpstreamPool } from '../gateway/index.js';
import { runCli } from '../audit/fixtures/cli.js';
import { startConverseServer, type RunningJsonServer } from './servers/converse.js';
import { startLocalAgentCore, type LocalAgentCore } from './servers/agentcore.js';
import { startFlakyProxy, type FlakyProxy } from './servers/flaky-proxy.js';
import { startToolServer, type ToolServer } from './servers/tool-server.js';

const OPTS: UpstreamGuardOptions = { maxConcurrent: 8, timeoutMs: 5_000, failureThreshold: 2, openMs: 400 };
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };
const home = mkdtempSync(join(tmpdir(), 'charter-breakers-'));
const records: AuditRecord[] = [];
const changes: BreakerChange[] = [];
let stopRecording: () => void;
let s3: LocalObjectLockS3;
let converse: RunningJsonServer;
let agentcore: LocalAgentCore;
let tools: ToolServer;
let agent: { url: string; close(): Promise<void> };
const proxies: FlakyProxy[] = [];

beforeAll(async () => {
  stopRecording = recordBreakerChanges(BREAKERS, {
    audit: { append: async (r) => (records.push(r), { seq: records.length - 1 }) },
    file: BreakerFile.inHome(home),
  });
  BREAKERS.onChange((c) => changes.push(c));
  s3 = await startLocalObjectLockS3(); // throws (the suite fails) when radosgw cannot start
  await s3.createLockedBucket('trail', 1);
  converse = await startConverseServer(() => ({ text: 'ok' }));
  tools = await startToolServer(['get_quote']);
  agentcore = await startLocalAgentCore();
  // The agent behind the AgentCore runtime contract: a well-formed answer for the tenant it was asked for.
  agent = await listenLoopback(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => {
          const { tenantId } = JSON.parse(Buffer.concat(chunks).toString()) as { tenantId: string };
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              agent: 'spot-bidding',
              tenantId,
              manifestDigest: `sha256:${'0'.repeat(64)}`,
              producedBy: { strategy: 'rules' },
              output: {},
              usage: { modelCalls: 0, inputTokens: 0, outputTokens: 0, toolCalls: 0 },
              warnings: [],
            }),
          );
        });
    }),
  );
}, 180_000);

afterAll(async () => {
  stopRecording?.();
  await Promise.allSettled([...proxies.map((p) => p.close()), converse?.close(), tools?.close(), agentcore?.close(), agent?.close()]);
  await s3?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function proxied(url: string): Promise<FlakyProxy> {
  const p = await startFlakyProxy(url);
  proxies.push(p);
  return p;
}

/**
 * The life of one breaker against a real server behind a proxy: closed while the server
 * answers; two failures on the wire open it; open, it refuses without opening a connection;
 * after openMs one probe passes, and the server answering again closes it. Each change is
 * reported, recorded as audit evidence and in breakers.json.
 */
async function opensAndCloses(
  breaker: string,
  key: string,
  proxy: FlakyProxy,
  call: () => Promise<unknown>,
  tenantId: string | null = null,
) {
  const state = () => BREAKERS.states().find((s) => s.breaker === breaker && s.key === key)?.state;
  const mine = () => changes.filter((c) => c.breaker === breaker && c.key === key).map((c) => `${c.from}->${c.to}`);
  await call();
  expect(state()).toBe('closed');
  proxy.down();
  for (let i = 0; i < OPTS.failureThreshold; i++) await expect(call()).rejects.toBeDefined();
  expect(state()).toBe('open');
  const connections = proxy.connections;
  await expect(call()).rejects.toBeInstanceOf(UpstreamRefused);
  expect(proxy.connections, 'an open breaker refuses without a connection').toBe(connections);
  proxy.up();
  await new Promise((r) => setTimeout(r, OPTS.openMs + 50));
  expect(state()).toBe('half-open');
  await call();
  expect(state()).toBe('closed');
  expect(mine()).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  const evidence = records.filter(
    (r) => r.kind === 'evidence' && r.evidenceType === 'breaker' && r.subject === `breaker:${breaker}:${key}`,
  );
  expect(evidence.map((r) => r.kind === 'evidence' && r.summary.split(' ').slice(3, 6).join(' '))).toEqual([
    'closed -> open',
    'open -> half-open',
    'half-open -> closed',
  ]);
  expect(evidence.every((r) => r.tenantId === tenantId)).toBe(true);
  expect(
    BreakerFile.inHome(home)
      .read()
      .find((e) => e.breaker === breaker && e.key === key),
  ).toMatchObject({ state: 'closed' });
}

describe('breakers on every remote call open and close', () => {
  it('Bedrock, per region and model (Converse)', async () => {
    const proxy = await proxied(converse.url);
    const client = new BedrockRuntimeClient({ region: 'eu-west-1', endpoint: proxy.url, credentials, maxAttempts: 1 });
    const model = new ConverseToolModel('amazon.nova-micro-v1:0', client, BREAKERS.guard('model', OPTS));
    const turn = () =>
      model.turn({
        system: 's',
        messages: [{ role: 'user', text: 'hi' }],
        tools: [],
        temperature: 0,
        maxTokens: 10,
        signal: new AbortController().signal,
      });
    await opensAndCloses('model', `bedrock:eu-west-1|${proxy.url}|amazon.nova-micro-v1:0`, proxy, turn);
    client.destroy();
  });

  it('agent runtimes (AgentCore InvokeAgentRuntime)', async () => {
    const proxy = await proxied(agent.url);
    const arn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/spot-bidding-abc';
    agentcore.routes.set(arn, proxy.url);
    const client = new BedrockAgentCoreClient({ region: 'us-east-1', endpoint: agentcore.endpoint, credentials, maxAttempts: 1 });
    const agents = new AgentCoreAgents({ 'spot-bidding': arn }, client, BREAKERS.guard('agent-runtime', OPTS));
    // The proxy sits between AgentCore and the agent: the runtime failing is what AgentCore answers 5xx for.
    await opensAndCloses('agent-runtime', `agentcore:${arn}`, proxy, () =>
      agents.invoke('spot-bidding', 'acme', {}, { negotiationId: 'n1' }),
    );
    client.destroy();
  });

  it("the gateway's upstreams, per tenant and upstream (MCP tool server)", async () => {
    const proxy = await proxied(tools.url);
    const url = `${proxy.url}${new URL(tools.url).pathname}`;
    const action = upstreamAction('Procurement', 'get_quote');
    const pool = new UpstreamPool({ [action]: url }, OPTS);
    try {
      await opensAndCloses(
        'gateway-upstream',
        `acme|${url}`,
        proxy,
        async () => {
          const r = await pool.call('acme', { name: 'get_quote', action }, { tenant_id: 'acme' });
          if (r.isError) throw new Error('tool error');
        },
        'acme',
      );
    } finally {
      await pool.close();
    }
    expect(BREAKERS.states().some((s) => s.breaker === 'gateway-upstream' && s.key === `acme|${url}`)).toBe(false);
  });

  it('the S3 audit sink, per endpoint and bucket (radosgw)', async () => {
    const proxy = await proxied(s3.endpoint);
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: proxy.url,
      forcePathStyle: true,
      credentials: s3.credentials,
      maxAttempts: 1,
    });
    const sink = new S3ObjectLockSink({ bucket: 'trail', retentionDays: 1, client, endpoint: proxy.url, guard: OPTS });
    await opensAndCloses('audit-s3', `${proxy.url}|trail`, proxy, () => sink.list('audit/'));
    client.destroy();
  });

  it('charter negotiations breakers lists the last change of each', { timeout: 60_000 }, async () => {
    const out = await runCli(['negotiations', 'breakers', '--json'], home);
    expect(out.code, out.stderr).toBe(0);
    const listed = (JSON.parse(out.stdout) as { breakers: Array<{ breaker: string; state: string }> }).breakers;
    expect(listed.map((b) => b.breaker).sort()).toEqual(['agent-runtime', 'audit-s3', 'gateway-upstream', 'model']);
    expect(listed.every((b) => b.state === 'closed')).toBe(true);
    const open = await runCli(['negotiations', 'breakers', '--open'], home);
    expect(open.stdout).toContain('no breaker is open');
  });
});
