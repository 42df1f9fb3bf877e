import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand, ResourceNotFoundException } from '@aws-sdk/client-bedrock-agentcore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NAMES, AgentCoreAgents, serveAgentCoreRuntime, type RunningServer } from '../agents/index.js';
import type { LocalAgents } from '../orchestrator/index.js';
import { sampleRequisition } from '../orchestrator/index.js';
import { openHomeStack, type HomeStack } from '../cli/commands/negotiations/home.js';
import { prepareRuntimeHome } from './runtime-home.js';
import { startLocalAgentCore, type LocalAgentCore } from './servers/agentcore.js';
import { KillSwitchFile } from '../gateway/index.js';

/**
 * The agents behind the AgentCore Runtime contract, invoked through the real SDK
 * (InvokeAgentRuntime) against a local server that speaks the service's wire protocol.
 */
const arn = (agent: string) => `arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/${agent.replaceAll('-', '_')}-AbCdEf1234`;

let home: string;
let agentcore: LocalAgentCore;
let h: HomeStack;
let runtimes: RunningServer[] = [];
let client: BedrockAgentCoreClient;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'charter-agentcore-'));
  prepareRuntimeHome(home);
  agentcore = await startLocalAgentCore();
  client = new BedrockAgentCoreClient({
    region: 'us-east-1',
    endpoint: agentcore.endpoint,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
  let local: LocalAgents | undefined;
  h = await openHomeStack(
    home,
    { tenants: ['acme', 'globex'], env: 'dev' },
    {
      agents: (l) => {
        local = l;
        return new AgentCoreAgents(Object.fromEntries(AGENT_NAMES.map((a) => [a, arn(a)])), client);
      },
    },
  );
  // One runtime (HTTP server) per agent, each running only its own agent.
  runtimes = await Promise.all(
    AGENT_NAMES.map(async (agent) => {
      const rt = await serveAgentCoreRuntime((p) =>
        local!.invoke(agent, p.tenantId, p.input, {
          ...(p.negotiationId ? { negotiationId: p.negotiationId } : {}),
          ...(p.traceId ? { traceId: p.traceId } : {}),
        }),
      );
      agentcore.routes.set(arn(agent), rt.url);
      return rt;
    }),
  );
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(runtimes.map((r) => r.close()));
  await h?.close();
  await agentcore?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('agents on AgentCore Runtime', () => {
  it('runs a negotiation whose every agent step is an InvokeAgentRuntime call', async () => {
    const done = await h.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 1));
    expect(done.status, done.reason ?? '').toBe('AWARDED');
    for (const agent of ['kraljic-classifier', 'leverage-auction', 'bid-evaluation', 'award-communications'])
      expect(agentcore.calls.get(arn(agent)), agent).toBe(1);
    expect(agentcore.calls.get(arn('spot-bidding'))).toBeUndefined();
  });

  it('carries a tool refusal inside a runtime back as a refusal: the negotiation goes to compliance review, not to an error', async () => {
    const switches = KillSwitchFile.inHome(home);
    await switches.engage('agent', 'kraljic-classifier', 'sec-oncall', 'under investigation');
    try {
      const refused = await h.stack.orchestrator.negotiate('globex', sampleRequisition('globex', 1));
      expect(refused).toMatchObject({
        status: 'REQUIRES_ATTENTION',
        attention: {
          trigger: 'tool_refused',
          caseId: expect.any(String),
          details: { node: 'classify', reason: expect.stringContaining('base.suspended-agent') },
        },
      });
      expect(agentcore.calls.get(arn('compliance-review'))).toBe(1);
    } finally {
      await switches.release('agent', 'kraljic-classifier', 'sec-oncall', 'cleared');
    }
  });

  it('answers /ping per the contract and keeps a session to one tenant', async () => {
    const rt = runtimes[0]!;
    expect(await (await fetch(`${rt.url}/ping`)).json()).toMatchObject({ status: 'Healthy' });
    const session = 'acme.acme-n009.kraljic-classifier.....';
    const call = (tenantId: string) =>
      client.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: arn('kraljic-classifier'),
          runtimeSessionId: session,
          contentType: 'application/json',
          payload: Buffer.from(
            JSON.stringify({ tenantId, input: { negotiationId: 'x', categoryId: 'c', profitImpact: 0.9, supplyRisk: 0.9 } }),
          ),
        }),
      );
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
      );
    // Nothing of acme's is named x: the classifier's first tool call is refused, and the runtime answers with the refusal.
    const answer = await call('acme');
    expect(JSON.parse((await answer.response!.transformToString()) as string)).toMatchObject({
      refusedTool: { tool: expect.any(String), result: { decision: { decision: 'deny' } } },
    });
    // The session now belongs to acme: globex may not use it.
    expect(await status(call('globex'))).toBe(409);
  });

  it('surfaces an unknown runtime as ResourceNotFoundException through the SDK', async () => {
    await expect(
      client.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: arn('no-such-agent'),
          runtimeSessionId: 'x'.repeat(33),
          payload: Buffer.from('{}'),
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
