import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore';
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCoreAgents, defaultAgentRuntimeGuard, INVOCATION_ENVELOPE } from '../agents/index.js';
import { contentPath, packageRoot } from '../common/index.js';
import { AgentIdentityIssuer, InvocationCredentials } from '../orchestrator/index.js';
import { deployRelease, type AgentCorePlan } from '../release-gates/index.js';
import { LocalKeySigner, loadPrivateKey } from '../signing/index.js';
import { prepareRuntimeHome } from './runtime-home.js';
import { startLocalAgentCore, type LocalAgentCore } from './servers/agentcore.js';
import { startAgentCoreControl, type AgentCoreControlServer } from './servers/agentcore-control.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';

/**
 * The runtime image as AgentCore Runtime would run it. Docker cannot build here, so the test
 * reads the Dockerfile and runs its final stage's ENTRYPOINT + CMD as written, in its WORKDIR
 * (the package root stands for /app) with its ENV and the environment deploy set on the runtime
 * (read back from the local control plane), and the release home the image copies in.
 */
const AGENT = 'kraljic-classifier';
const ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/charter_dev_kraljic_classifier-AbCdEf1234';
const BARE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/no_allowlist-AbCdEf1234';

interface Image {
  platforms: string[];
  workdir: string;
  env: Record<string, string>;
  expose: string[];
  argv: string[];
}

/** The Dockerfile's final stage: every FROM's platform, and the WORKDIR, ENV, EXPOSE and exec-form ENTRYPOINT + CMD that apply. */
function parseDockerfile(text: string): Image {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const image: Image = { platforms: [], workdir: '/', env: {}, expose: [], argv: [] };
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const line of lines) {
    const [, instruction, rest] = /^\s*(\w+)\s+(.*)$/.exec(line)!;
    const args = rest!.trim();
    switch (instruction!.toUpperCase()) {
      case 'FROM':
        image.platforms.push(/--platform=(\S+)/.exec(args)?.[1] ?? 'none');
        Object.assign(image, { workdir: '/', env: {}, expose: [] });
        entrypoint = [];
        cmd = [];
        break;
      case 'WORKDIR':
        image.workdir = args;
        break;
      case 'ENV':
        for (const m of args.matchAll(/(\w+)=(\S+)/g)) image.env[m[1]!] = m[2]!;
        break;
      case 'EXPOSE':
        image.expose.push(...args.split(/\s+/));
        break;
      case 'ENTRYPOINT':
        entrypoint = JSON.parse(args) as string[];
        break;
      case 'CMD':
        cmd = JSON.parse(args) as string[];
        break;
    }
  }
  image.argv = [...entrypoint, ...cmd];
  return image;
}

let home: string;
let control: AgentCoreControlServer;
let idp: JwksServer;
let dataPlane: LocalAgentCore;
let plan: AgentCorePlan;
let runtimeConfig: Record<string, unknown>;
let image: Image;
let runtime: ChildProcess | undefined;
let credentials: InvocationCredentials;

/** The image's command with the image's and the deployed runtime's environment; `extra` overrides. */
function imageCommand(extra: Record<string, string> = {}) {
  expect(image.argv[0], 'the image runs node').toBe('node');
  return {
    argv: [process.execPath, ...image.argv.slice(1)],
    env: {
      PATH: process.env.PATH!,
      ...image.env,
      // The release home the image copies to /charter-home.
      CHARTER_HOME: home,
      ...(runtimeConfig.environmentVariables as Record<string, string>),
      ...extra,
    },
  };
}

beforeAll(async () => {
  image = parseDockerfile(readFileSync(contentPath('Dockerfile'), 'utf8'));
  home = mkdtempSync(join(tmpdir(), 'charter-runtime-image-'));
  prepareRuntimeHome(home, ['dev']);
  control = await startAgentCoreControl();
  idp = await startJwksServer();
  dataPlane = await startLocalAgentCore();
  const client = new BedrockAgentCoreControlClient({
    endpoint: control.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALTEST0000000', secretAccessKey: 'local-test-secret' },
  });
  const [deployed] = await deployRelease(
    'dev',
    AGENT,
    {
      roleArn: 'arn:aws:iam::123456789012:role/charter-agents',
      containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/charter/{agent}:1.0.0',
      discoveryUrl: idp.discoveryUrl,
      allowedAudience: [idp.audience],
      toolsUrl: 'https://charter-gateway.example.com/mcp',
      auditBucket: 'charter-audit-dev',
      mode: 'ENFORCE',
    },
    { home, client, pollMs: 5 },
  );
  plan = deployed!.plan;
  runtimeConfig = control.state.runtimes.get(deployed!.deployment.runtime.id)!;
  // The orchestrator's side: identity tokens and signed envelopes for the released manifest.
  const identity = await AgentIdentityIssuer.open(home);
  const envelopes = new LocalKeySigner(loadPrivateKey(INVOCATION_ENVELOPE.keyFile(home)));
  credentials = new InvocationCredentials(identity, new Map([[AGENT, plan.manifestDigest]]), envelopes);
}, 240_000);

afterAll(async () => {
  runtime?.kill('SIGTERM');
  await control?.close();
  await idp?.close();
  await dataPlane?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the runtime image', () => {
  it('is built for linux/arm64 and exposes 8080', () => {
    expect(image.platforms.length).toBeGreaterThan(0);
    expect(new Set(image.platforms)).toEqual(new Set(['linux/arm64']));
    expect(image.expose).toEqual(['8080']);
  });

  it("starts from the image's command and deploy's environment on 0.0.0.0:8080 and answers /ping", async () => {
    const { argv, env } = imageCommand();
    runtime = spawn(argv[0]!, argv.slice(1), { cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    runtime.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      runtime!.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      runtime!.once('exit', (code) => reject(new Error(`the image's command exited ${code}: ${stderr}`)));
    });
    expect(url).toBe('http://0.0.0.0:8080');
    // Bound to every interface, not loopback: 0.0.0.0:8080 (0x1F90) listening in the kernel's table.
    expect(readFileSync('/proc/net/tcp', 'utf8')).toMatch(/^\s*\d+: 00000000:1F90 00000000:0000 0A /m);
    expect(await (await fetch('http://127.0.0.1:8080/ping')).json()).toMatchObject({ status: 'Healthy' });
  });

  it('takes an invocation through InvokeAgentRuntime with the identity headers allowlisted and sent; without them it answers 401', async () => {
    dataPlane.routes.set(ARN, 'http://127.0.0.1:8080');
    dataPlane.allowlists.set(
      ARN,
      (runtimeConfig.requestHeaderConfiguration as { requestHeaderAllowlist: string[] }).requestHeaderAllowlist,
    );
    dataPlane.routes.set(BARE, 'http://127.0.0.1:8080');
    const sdk = new BedrockAgentCoreClient({
      region: 'us-east-1',
      endpoint: dataPlane.endpoint,
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    });
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (err: { $metadata?: { httpStatusCode?: number }; message?: string }) => `${err.$metadata?.httpStatusCode}: ${err.message}`,
      );
    const agents = (arn: string, auth?: InvocationCredentials) =>
      new AgentCoreAgents({ [AGENT]: arn }, sdk, defaultAgentRuntimeGuard(), auth);
    // Input the classifier refuses before any tool call: a 400 from the agent itself, past the
    // identity token (401/403 otherwise) and the signed envelope, so both reached the container.
    // Without the allowlist, or without the SDK sending them, the container answers 401.
    const invoke = (a: AgentCoreAgents) => status(a.invoke(AGENT, 'acme', { negotiationId: 'n1' }, { negotiationId: 'n1' }));
    expect(await invoke(agents(ARN, credentials))).toMatch(/^400: /);
    expect(await invoke(agents(BARE, credentials))).toMatch(/^401: /);
    expect(await invoke(agents(ARN))).toMatch(/^401: /);
  });

  it('refuses to start on a manifest other than the one deploy pinned', () => {
    const { argv, env } = imageCommand({ CHARTER_MANIFEST_DIGEST: `sha256:${'0'.repeat(64)}` });
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: packageRoot, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`CHARTER_MANIFEST_DIGEST is sha256:${'0'.repeat(64)}, but the manifest to serve is ${plan.manifestDigest}`);
  });
});
