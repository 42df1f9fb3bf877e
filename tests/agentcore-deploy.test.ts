import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_HEADER, IDENTITY_HEADER } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { STORE_TABLES } from '../orchestrator/index.js';
import {
  checkTerraform,
  deployRelease,
  deployToAgentCore,
  loadReleasedManifest,
  planRelease,
  type AgentCoreSettings,
} from '../release-gates/index.js';
import { prepareRuntimeHome } from './runtime-home.js';
import { startAgentCoreControl, type AgentCoreControlServer } from './servers/agentcore-control.js';
import { startJwksServer, type JwksServer } from './servers/jwks.js';

/**
 * Deploy to AgentCore as designed, through the real control-plane SDK against the local server:
 * per-agent policies decided by cedar-wasm on the local gateway, targets the policies are
 * validated against, the runtime's inbound settings, and tenancy models from tenants.yaml.
 */
const TOOLS_URL = 'https://charter-gateway.example.com/mcp';
let home: string;
let control: AgentCoreControlServer;
let idp: JwksServer;
let upstream: Server;
/** tools/call requests that reached Charter's gateway (the targets' endpoint). */
const reached: string[] = [];
let settings: AgentCoreSettings;
let client: BedrockAgentCoreControlClient;
const at = () => ({ home, trustedKeysFile: join(home, 'keys', 'trusted-keys.json'), pollMs: 5 });

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'charter-agentcore-deploy-'));
  prepareRuntimeHome(home, ['dev', 'stg', 'prod']);
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const call = JSON.parse(body) as { id: number; params: { name: string } };
      reached.push(call.params.name);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: { content: [] } }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const local = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
  control = await startAgentCoreControl({ pageSize: 3, upstreams: new Map([[TOOLS_URL, local]]) });
  idp = await startJwksServer();
  client = new BedrockAgentCoreControlClient({
    endpoint: control.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALTEST0000000', secretAccessKey: 'local-test-secret' },
  });
  settings = {
    roleArn: 'arn:aws:iam::123456789012:role/charter-agents',
    containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/charter/{agent}:1.0.0',
    discoveryUrl: idp.discoveryUrl,
    allowedAudience: [idp.audience],
    toolsUrl: TOOLS_URL,
    auditBucket: 'charter-audit-dev',
    mode: 'ENFORCE',
  };
}, 240_000);

afterAll(async () => {
  await control?.close();
  await idp?.close();
  await new Promise((r) => upstream?.close(r));
  rmSync(home, { recursive: true, force: true });
});

/** A tools/call on the local AgentCore gateway with a token for `agentId`. */
async function callTool(url: string, agentId: string, tool: string): Promise<{ error?: { message: string }; result?: unknown }> {
  const token = await idp.issue({ sub: 'charter-orchestrator', tenantId: 'acme', agentId });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: tool, arguments: { tenant_id: 'acme', negotiationId: 'n1' } },
    }),
  });
  return (await res.json()) as { error?: { message: string }; result?: unknown };
}

describe('deploy to AgentCore: agent-scoped policies, targets, runtime settings', () => {
  it("refuses agent A's token agent B's tool on the gateway, by the deployed policy set", async () => {
    const [spot] = await deployRelease('dev', 'spot-bidding', settings, { ...at(), client });
    const [kraljic] = await deployRelease('dev', 'kraljic-classifier', settings, { ...at(), client });
    const url = spot!.deployment.gateway.url!;
    expect(kraljic!.deployment.gateway).toMatchObject({ url, action: 'unchanged' });
    // The classifier's own tool, and a tool both agents have, pass; the spot-bidding agent's
    // solicitation does not, though a permit for it is deployed on the same gateway.
    expect(await callTool(url, 'kraljic-classifier', 'procurement___get_category_spend')).toHaveProperty('result');
    expect(await callTool(url, 'kraljic-classifier', 'procurement___get_negotiation')).toHaveProperty('result');
    expect((await callTool(url, 'kraljic-classifier', 'procurement___solicit_spot_bids')).error?.message).toMatch(
      /denied by the gateway's policy engine/,
    );
    expect(await callTool(url, 'spot-bidding', 'procurement___solicit_spot_bids')).toHaveProperty('result');
    expect((await callTool(url, 'spot-bidding', 'procurement___get_category_spend')).error?.message).toMatch(/denied/);
    expect(reached).toEqual(['get_category_spend', 'get_negotiation', 'solicit_spot_bids']);
    expect(control.decisions.filter((d) => d.decision === 'Deny').map((d) => d.action)).toEqual([
      'procurement___solicit_spot_bids',
      'procurement___get_category_spend',
    ]);
    // A token from another identity provider is refused before any policy is asked.
    const forged = await idp.forge({ sub: 'x', tenantId: 'acme', agentId: 'spot-bidding' });
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${forged}` },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
    });
    expect(res.status).toBe(401);
  });

  it('creates one target per tool namespace listing the tools with their argument contracts, merged across agents', () => {
    const gateway = [...control.state.gateways.values()].find((g) => g.name === 'charter-dev')!;
    const targets = [...control.state.targets.get(String(gateway.gatewayId))!.values()];
    expect(targets.map((t) => t.name)).toEqual(['procurement']);
    const config = targets[0]!.targetConfiguration as {
      mcp: { mcpServer: { endpoint: string; mcpToolSchema: { inlinePayload: string } } };
    };
    expect(config.mcp.mcpServer.endpoint).toBe(TOOLS_URL);
    const tools = JSON.parse(config.mcp.mcpServer.mcpToolSchema.inlinePayload) as Array<{ name: string; inputSchema: unknown }>;
    const spot = loadReleasedManifest('dev', 'spot-bidding', at()).manifest.tools;
    const kraljic = loadReleasedManifest('dev', 'kraljic-classifier', at()).manifest.tools;
    expect(tools.map((t) => t.name)).toEqual([...new Set([...spot, ...kraljic].map((t) => t.name))].sort());
    expect(tools.find((t) => t.name === 'solicit_spot_bids')!.inputSchema).toEqual(spot.find((t) => t.name === 'solicit_spot_bids')!.args);
  });

  it('fails a policy that names a missing target, a tool no target lists, or an input field the tool does not have', async () => {
    const [plan] = planRelease('dev', 'spot-bidding', settings, at());
    const bad = (name: string, action: string, when = 'true') => ({
      name: `${plan!.policyPrefix}${name}`,
      description: 'bad',
      statement: (arn: string) =>
        `permit (principal is AgentCore::OAuthUser, action == AgentCore::Action::"${action}", resource == AgentCore::Gateway::"${arn}") when { ${when} };`,
    });
    for (const [policy, reason] of [
      [bad('no_target', 'payments___get_bids'), /payments___get_bids/],
      [bad('no_tool', 'procurement___terminate_supplier_contract'), /procurement___terminate_supplier_contract/],
      [bad('no_field', 'procurement___get_bids', 'context.input.amount > 5'), /amount/],
    ] as const)
      await expect(deployToAgentCore({ ...plan!, policies: [policy] }, client, { pollMs: 5 })).rejects.toThrow(reason);
    // Without its targets, the release's own policies fail the same check on a fresh gateway.
    const fresh = {
      ...plan!,
      policyEngine: { ...plan!.policyEngine, name: 'charter_dev_notargets' },
      gateway: { ...plan!.gateway, name: 'charter-dev-notargets' },
    };
    await expect(deployToAgentCore({ ...fresh, targets: [] }, client, { pollMs: 5 })).rejects.toThrow(/is CREATE_FAILED: .*procurement___/);
  });

  it('deploys the runtime with the identity headers allowlisted, a JWT authorizer, lifecycle settings and the gateway URL', () => {
    const runtime = [...control.state.runtimes.values()].find((r) => r.agentRuntimeName === 'charter_dev_spot_bidding')!;
    expect(runtime).toMatchObject({
      requestHeaderConfiguration: { requestHeaderAllowlist: [IDENTITY_HEADER, ENVELOPE_HEADER] },
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: idp.discoveryUrl, allowedAudience: [idp.audience] } },
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28_800 },
      environmentVariables: {
        CHARTER_AGENT: 'spot-bidding',
        CHARTER_ENVIRONMENT: 'dev',
        CHARTER_GATEWAY_URL: expect.stringMatching(/\/gateway\/.+\/mcp$/),
        CHARTER_AUDIT_SINK: 's3://charter-audit-dev/audit',
      },
    });
  });
});

describe('tenancy models from tenants.yaml', () => {
  it('plans the pool and a silo per silo tenant, and deploy --dry-run prints the AWS calls of each', () => {
    writeFileSync(
      join(home, 'tenants.yaml'),
      'tenants:\n  acme: {}\n  globex:\n    deploy: { model: silo, bucket: globex-audit-dev }\n  initech:\n    deploy: { model: silo }\n',
    );
    try {
      const plans = planRelease('dev', 'spot-bidding', settings, at());
      expect(
        plans.map((p) => [p.tenancy.model, p.gateway.name, p.policyEngine.name, p.runtime.name, `${p.audit.bucket}/${p.audit.prefix}`]),
      ).toEqual([
        ['pool', 'charter-dev', 'charter_dev', 'charter_dev_spot_bidding', 'charter-audit-dev/audit'],
        ['silo', 'charter-dev-globex', 'charter_dev_globex', 'charter_dev_globex_spot_bidding', 'globex-audit-dev/audit/globex'],
        ['silo', 'charter-dev-initech', 'charter_dev_initech', 'charter_dev_initech_spot_bidding', 'charter-audit-dev/audit/initech'],
      ]);
      // A silo's policies also require its tenant's claim; its runtime serves that tenant only.
      expect(plans[1]!.policies[0]!.statement('arn:gw')).toContain('principal.getTag("tenantId") == "globex"');
      expect(plans[1]!.runtime.environmentVariables.CHARTER_TENANT).toBe('globex');
      expect(plans[0]!.policies[0]!.statement('arn:gw')).not.toContain('tenantId');

      const cli = spawnSync(
        process.execPath,
        [
          contentPath('dist', 'cli', 'main.js'),
          ...['release', 'deploy', '--env', 'dev', '--agent', 'spot-bidding', '--dry-run', '--role-arn', settings.roleArn],
          ...['--container-uri', settings.containerUri, '--discovery-url', settings.discoveryUrl, '--tools-url', TOOLS_URL, '--json'],
        ],
        { env: { ...process.env, CHARTER_HOME: home, AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL: 'http://127.0.0.1:9' }, encoding: 'utf8' },
      );
      expect(cli.status, cli.stderr).toBe(0);
      const out = JSON.parse(cli.stdout) as { plans: Array<{ tenancy: { model: string }; calls: Array<{ call: string; name: string }> }> };
      expect(out.plans.map((p) => p.tenancy.model)).toEqual(['pool', 'silo', 'silo']);
      expect(out.plans[1]!.calls.map((c) => c.name)).toContain('charter-dev-globex');
      expect(out.plans[1]!.calls.find((c) => c.call.startsWith('CreateGatewayTarget'))).toMatchObject({ name: 'procurement' });
    } finally {
      rmSync(join(home, 'tenants.yaml'));
    }
  });
});

describe('README: deploy --dry-run and terraform', () => {
  it('runs the commands of the README block as written; the .tf.json passes the provider schema check', () => {
    const readme = readFileSync(contentPath('README.md'), 'utf8');
    const block = /<!-- readme-commands: deploy -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'the README block of deploy commands').toBeDefined();
    const cwd = mkdtempSync(join(tmpdir(), 'charter-readme-deploy-'));
    try {
      const outputs = block!
        .split('\n')
        .filter((l) => l.trim())
        .map((line) => {
          const [charter, ...args] = line.trim().split(/\s+/);
          expect(charter).toBe('charter');
          const r = spawnSync(process.execPath, [contentPath('dist', 'cli', 'main.js'), ...args], {
            cwd,
            env: { ...process.env, CHARTER_HOME: home },
            encoding: 'utf8',
          });
          expect(r.status, `${line}\n${r.stderr}`).toBe(0);
          return r.stdout;
        });
      expect(outputs[0]).toMatch(/CreateGatewayTarget[\s\S]*procurement[\s\S]*CreateAgentRuntime[\s\S]*charter_prod_spot_bidding/);
      const tf = JSON.parse(readFileSync(join(cwd, 'charter-prod.tf.json'), 'utf8')) as unknown;
      expect(checkTerraform(tf)).toEqual([]);
      const runnerRole = (tf as { resource: Record<string, Record<string, { policy?: string }>> }).resource.aws_iam_role_policy!
        .state_machine!;
      const statements = (JSON.parse(runnerRole.policy!) as { Statement: { Action: string[] }[] }).Statement;
      expect(statements.flatMap((s) => s.Action)).toEqual(expect.arrayContaining([...STORE_TABLES.actions]));
      expect(Object.keys((tf as { resource: Record<string, object> }).resource.aws_bedrockagentcore_agent_runtime!)).toHaveLength(8);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
