import {
  BedrockAgentCoreControlClient,
  CreateAgentRuntimeCommand,
  CreateGatewayCommand,
  CreateGatewayTargetCommand,
  CreatePolicyCommand,
  CreatePolicyEngineCommand,
  DeletePolicyCommand,
  GetAgentRuntimeCommand,
  GetGatewayCommand,
  GetGatewayTargetCommand,
  GetPolicyCommand,
  GetPolicyEngineCommand,
  ListAgentRuntimesCommand,
  ListGatewaysCommand,
  ListGatewayTargetsCommand,
  ListPoliciesCommand,
  ListPolicyEnginesCommand,
  UpdateAgentRuntimeCommand,
  UpdateGatewayCommand,
  UpdateGatewayTargetCommand,
  UpdatePolicyCommand,
  type Policy,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { FindingError } from '../common/index.js';
import type { AgentCorePlan, PlannedTarget, TargetTool } from './agentcore-plan.js';

export type DeployAction = 'created' | 'updated' | 'unchanged' | 'deleted';

export interface AgentCoreDeployment {
  policyEngine: { id: string; arn: string; action: DeployAction };
  gateway: { id: string; arn: string; url: string | null; action: DeployAction };
  targets: Array<{ name: string; id: string; tools: number; action: DeployAction }>;
  policies: Array<{ name: string; id: string; action: DeployAction }>;
  runtime: { id: string; arn: string; version: string; action: DeployAction };
}

export interface DeployOptions {
  /** How long to wait for a resource to leave CREATING/UPDATING (default 10 minutes). */
  timeoutMs?: number;
  pollMs?: number;
}

/** Collects every page of a paginated list call. */
async function listAll<T>(
  page: (token: string | undefined) => Promise<{ items: T[] | undefined; nextToken?: string | undefined }>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const res = await page(token);
    out.push(...(res.items ?? []));
    token = res.nextToken;
  } while (token);
  return out;
}

/**
 * Waits until a resource is in its ready state; a failed state or the timeout is a finding that
 * quotes the service's status reasons, so a half-applied deploy is never reported as done.
 */
async function waitReady(
  what: string,
  get: () => Promise<{ status?: string | undefined; statusReasons?: string[] | undefined }>,
  ready: string,
  opts: DeployOptions,
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  for (;;) {
    const { status, statusReasons } = await get();
    if (status === ready) return;
    if (status && /FAILED|UNSUCCESSFUL/.test(status))
      throw new FindingError(`${what} is ${status}: ${(statusReasons ?? []).join('; ') || 'no reason given'}`);
    if (Date.now() > deadline)
      throw new FindingError(`${what} is still ${status ?? 'unknown'} after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2_000));
  }
}

/** The static tool list of an MCP server target (its inline payload), empty when it has none. */
function targetTools(config: unknown): TargetTool[] {
  const inline = (config as { mcp?: { mcpServer?: { mcpToolSchema?: { inlinePayload?: string } } } } | undefined)?.mcp?.mcpServer
    ?.mcpToolSchema?.inlinePayload;
  return inline ? (JSON.parse(inline) as TargetTool[]) : [];
}

/**
 * Creates or updates one gateway target. Agents share a gateway's targets, so the tool list is
 * the union of what the target lists and what this release needs (this agent's tools win on a
 * difference): deploying one agent never removes a tool another agent's policies name.
 */
async function deployTarget(
  client: BedrockAgentCoreControlClient,
  gatewayId: string,
  planned: PlannedTarget,
  opts: DeployOptions,
): Promise<AgentCoreDeployment['targets'][number]> {
  const existing = (
    await listAll((nextToken) =>
      client
        .send(new ListGatewayTargetsCommand({ gatewayIdentifier: gatewayId, nextToken }))
        .then((r) => ({ items: r.items, nextToken: r.nextToken })),
    )
  ).find((t) => t.name === planned.name);
  const have = existing
    ? await client.send(new GetGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId: existing.targetId! }))
    : undefined;
  const tools = new Map(targetTools(have?.targetConfiguration).map((t) => [t.name, t]));
  for (const t of planned.tools) tools.set(t.name, t);
  const inlinePayload = JSON.stringify([...tools.values()].sort((a, b) => a.name.localeCompare(b.name)));
  const fields = {
    gatewayIdentifier: gatewayId,
    name: planned.name,
    description: planned.description,
    targetConfiguration: { mcp: { mcpServer: { endpoint: planned.endpoint, mcpToolSchema: { inlinePayload } } } },
  };
  let targetId: string;
  let action: DeployAction;
  if (!have) {
    targetId = (await client.send(new CreateGatewayTargetCommand(fields))).targetId!;
    action = 'created';
  } else if (
    have.description === planned.description &&
    JSON.stringify(have.targetConfiguration) === JSON.stringify(fields.targetConfiguration)
  ) {
    targetId = have.targetId!;
    action = 'unchanged';
  } else {
    targetId = (await client.send(new UpdateGatewayTargetCommand({ ...fields, targetId: have.targetId! }))).targetId!;
    action = 'updated';
  }
  await waitReady(
    `gateway target ${planned.name}`,
    () => client.send(new GetGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId })),
    'READY',
    opts,
  );
  return { name: planned.name, id: targetId, tools: tools.size, action };
}

/**
 * Creates or updates, through the AgentCore control plane, the policy engine, the gateway it is
 * attached to, its gateway targets, the agent's Cedar policies (stale ones of this agent removed) and the agent
 * runtime. Idempotent: running it twice with the same plan changes nothing the second time.
 */
export async function deployToAgentCore(
  plan: AgentCorePlan,
  client: BedrockAgentCoreControlClient,
  opts: DeployOptions = {},
): Promise<AgentCoreDeployment> {
  // Policy engine, one per environment.
  const engines = await listAll((nextToken) =>
    client.send(new ListPolicyEnginesCommand({ nextToken })).then((r) => ({ items: r.policyEngines, nextToken: r.nextToken })),
  );
  let engine = engines.find((e) => e.name === plan.policyEngine.name);
  let engineAction: DeployAction = 'unchanged';
  if (!engine) {
    engine = await client.send(new CreatePolicyEngineCommand({ name: plan.policyEngine.name, description: plan.policyEngine.description }));
    engineAction = 'created';
  }
  const engineId = engine.policyEngineId!;
  await waitReady(
    `policy engine ${plan.policyEngine.name}`,
    () => client.send(new GetPolicyEngineCommand({ policyEngineId: engineId })),
    'ACTIVE',
    opts,
  );

  // Gateway, with the policy engine attached in the environment's mode.
  const gatewayFields = {
    name: plan.gateway.name,
    description: plan.gateway.description,
    roleArn: plan.gateway.roleArn,
    protocolType: 'MCP' as const,
    authorizerType: 'CUSTOM_JWT' as const,
    authorizerConfiguration: {
      customJWTAuthorizer: { discoveryUrl: plan.gateway.discoveryUrl, allowedAudience: plan.gateway.allowedAudience },
    },
    policyEngineConfiguration: { arn: engine.policyEngineArn!, mode: plan.gateway.mode },
  };
  const summaries = await listAll((nextToken) =>
    client.send(new ListGatewaysCommand({ nextToken })).then((r) => ({ items: r.items, nextToken: r.nextToken })),
  );
  const existing = summaries.find((g) => g.name === plan.gateway.name);
  let gatewayAction: DeployAction;
  let gateway;
  if (existing) {
    const current = await client.send(new GetGatewayCommand({ gatewayIdentifier: existing.gatewayId! }));
    const same =
      current.policyEngineConfiguration?.arn === gatewayFields.policyEngineConfiguration.arn &&
      current.policyEngineConfiguration?.mode === plan.gateway.mode &&
      current.roleArn === plan.gateway.roleArn;
    gateway = same ? current : await client.send(new UpdateGatewayCommand({ gatewayIdentifier: existing.gatewayId!, ...gatewayFields }));
    gatewayAction = same ? 'unchanged' : 'updated';
  } else {
    gateway = await client.send(new CreateGatewayCommand(gatewayFields));
    gatewayAction = 'created';
  }
  const gatewayId = gateway.gatewayId!;
  const gatewayArn = gateway.gatewayArn!;
  await waitReady(
    `gateway ${plan.gateway.name}`,
    () => client.send(new GetGatewayCommand({ gatewayIdentifier: gatewayId })),
    'READY',
    opts,
  );

  // Targets before policies: the policy engine validates each policy against the gateways' tools.
  const targets: AgentCoreDeployment['targets'] = [];
  for (const planned of plan.targets) targets.push(await deployTarget(client, gatewayId, planned, opts));

  // The agent's policies: create, update what differs, remove what the manifest no longer has.
  const current = await listAll((nextToken) =>
    client
      .send(new ListPoliciesCommand({ policyEngineId: engineId, nextToken }))
      .then((r) => ({ items: r.policies, nextToken: r.nextToken })),
  );
  const byName = new Map<string, Policy>(current.map((p) => [p.name!, p]));
  const policies: AgentCoreDeployment['policies'] = [];
  for (const planned of plan.policies) {
    const statement = planned.statement(gatewayArn);
    const have = byName.get(planned.name);
    const definition = { cedar: { statement } };
    let policyId: string;
    let action: DeployAction;
    if (!have) {
      policyId = (
        await client.send(
          new CreatePolicyCommand({
            policyEngineId: engineId,
            name: planned.name,
            description: planned.description,
            definition,
            validationMode: 'FAIL_ON_ANY_FINDINGS',
          }),
        )
      ).policyId!;
      action = 'created';
    } else if (
      have.definition &&
      'cedar' in have.definition &&
      have.definition.cedar?.statement === statement &&
      have.description === planned.description
    ) {
      policyId = have.policyId!;
      action = 'unchanged';
    } else {
      policyId = (
        await client.send(
          new UpdatePolicyCommand({
            policyEngineId: engineId,
            policyId: have.policyId!,
            description: { optionalValue: planned.description },
            definition,
            validationMode: 'FAIL_ON_ANY_FINDINGS',
          }),
        )
      ).policyId!;
      action = 'updated';
    }
    await waitReady(
      `policy ${planned.name}`,
      () => client.send(new GetPolicyCommand({ policyEngineId: engineId, policyId })),
      'ACTIVE',
      opts,
    );
    policies.push({ name: planned.name, id: policyId, action });
  }
  const wanted = new Set(plan.policies.map((p) => p.name));
  for (const p of current) {
    if (p.name!.startsWith(plan.policyPrefix) && !wanted.has(p.name!)) {
      await client.send(new DeletePolicyCommand({ policyEngineId: engineId, policyId: p.policyId! }));
      policies.push({ name: p.name!, id: p.policyId!, action: 'deleted' });
    }
  }

  // The agent runtime, pinned to the released manifest through its environment.
  const runtimes = await listAll((nextToken) =>
    client.send(new ListAgentRuntimesCommand({ nextToken })).then((r) => ({ items: r.agentRuntimes, nextToken: r.nextToken })),
  );
  // The agent reaches its tools through this gateway, which decides with the policies above.
  const environmentVariables = { ...plan.runtime.environmentVariables, CHARTER_GATEWAY_URL: gateway.gatewayUrl ?? '' };
  const runtimeFields = {
    agentRuntimeArtifact: { containerConfiguration: { containerUri: plan.runtime.containerUri } },
    roleArn: plan.runtime.roleArn,
    networkConfiguration: { networkMode: 'PUBLIC' as const },
    description: plan.runtime.description,
    environmentVariables,
    authorizerConfiguration: { customJWTAuthorizer: plan.runtime.authorizer },
    requestHeaderConfiguration: { requestHeaderAllowlist: plan.runtime.requestHeaderAllowlist },
    lifecycleConfiguration: plan.runtime.lifecycle,
  };
  const rt = runtimes.find((r) => r.agentRuntimeName === plan.runtime.name);
  let runtimeAction: DeployAction;
  let runtime: { agentRuntimeId?: string | undefined; agentRuntimeArn?: string | undefined; agentRuntimeVersion?: string | undefined };
  if (rt) {
    const have = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: rt.agentRuntimeId! }));
    const same =
      have.roleArn === plan.runtime.roleArn &&
      have.agentRuntimeArtifact !== undefined &&
      'containerConfiguration' in have.agentRuntimeArtifact &&
      have.agentRuntimeArtifact.containerConfiguration?.containerUri === plan.runtime.containerUri &&
      JSON.stringify(have.environmentVariables ?? {}) === JSON.stringify(environmentVariables) &&
      JSON.stringify(have.authorizerConfiguration ?? {}) === JSON.stringify(runtimeFields.authorizerConfiguration) &&
      JSON.stringify(have.requestHeaderConfiguration ?? {}) === JSON.stringify(runtimeFields.requestHeaderConfiguration) &&
      have.lifecycleConfiguration?.idleRuntimeSessionTimeout === plan.runtime.lifecycle.idleRuntimeSessionTimeout &&
      have.lifecycleConfiguration?.maxLifetime === plan.runtime.lifecycle.maxLifetime;
    runtime = same ? have : await client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: rt.agentRuntimeId!, ...runtimeFields }));
    runtimeAction = same ? 'unchanged' : 'updated';
  } else {
    runtime = await client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: plan.runtime.name, ...runtimeFields }));
    runtimeAction = 'created';
  }
  const runtimeId = runtime.agentRuntimeId!;
  await waitReady(
    `agent runtime ${plan.runtime.name}`,
    () =>
      client
        .send(new GetAgentRuntimeCommand({ agentRuntimeId: runtimeId }))
        .then((r) => ({ status: r.status, statusReasons: r.failureReason ? [r.failureReason] : [] })),
    'READY',
    opts,
  );

  return {
    policyEngine: { id: engineId, arn: engine.policyEngineArn!, action: engineAction },
    gateway: { id: gatewayId, arn: gatewayArn, url: gateway.gatewayUrl ?? null, action: gatewayAction },
    targets,
    policies,
    runtime: { id: runtimeId, arn: runtime.agentRuntimeArn!, version: runtime.agentRuntimeVersion!, action: runtimeAction },
  };
}
