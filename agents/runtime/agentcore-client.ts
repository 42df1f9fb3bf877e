import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { z } from 'zod';
import { FindingError, InputError } from '../../common/index.js';
import type { AgentOutput, InvokeOptions } from '../agent.js';

const Output = z.object({
  agent: z.string(),
  tenantId: z.string(),
  manifestDigest: z.string(),
  producedBy: z.union([z.object({ model: z.string() }), z.object({ strategy: z.literal('rules') })]),
  output: z.unknown(),
  usage: z.object({ modelCalls: z.number(), inputTokens: z.number(), outputTokens: z.number(), toolCalls: z.number() }),
  warnings: z.array(z.string()),
});

/**
 * Agents on AgentCore Runtime, invoked with InvokeAgentRuntime (endpoint from the AWS settings,
 * e.g. AWS_ENDPOINT_URL_BEDROCK_AGENTCORE). One runtime per agent; the runtime session is the
 * tenant's negotiation (same tenant and negotiation, same session), so session state is never
 * shared across tenants. Answers are checked like any untrusted input, tenant included.
 */
export class AgentCoreAgents {
  constructor(
    /** Runtime ARN per agent name. */
    private readonly runtimes: Readonly<Record<string, string>>,
    private readonly client: BedrockAgentCoreClient = new BedrockAgentCoreClient({}),
  ) {}

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
    const arn = this.runtimes[agent];
    if (!arn) throw new InputError(`no AgentCore runtime configured for agent '${agent}'`, { field: 'runtimes' });
    // Session ids must be 33+ characters; tenant and negotiation make them unique per tenant run.
    const runtimeSessionId = `${tenantId}.${opts.negotiationId ?? 'adhoc'}.${agent}`.padEnd(33, '.');
    const res = await this.client.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: arn,
        runtimeSessionId,
        contentType: 'application/json',
        accept: 'application/json',
        payload: Buffer.from(JSON.stringify({ tenantId, input, ...(opts.negotiationId ? { negotiationId: opts.negotiationId } : {}), ...(opts.traceId ? { traceId: opts.traceId } : {}) })),
        ...(opts.traceId ? { traceId: opts.traceId } : {}),
      }),
    );
    // The SDK throws on a non-2xx answer (the service's or the runtime's error), so this is a 2xx body.
    const text = res.response ? await res.response.transformToString() : '';
    let parsed;
    try {
      parsed = Output.parse(JSON.parse(text));
    } catch (err) {
      throw new FindingError(`agent ${agent} on AgentCore answered malformed output: ${(err as Error).message.slice(0, 200)}`);
    }
    if (parsed.tenantId !== tenantId || parsed.agent !== agent) throw new FindingError(`agent ${agent} on AgentCore answered for ${parsed.agent}/${parsed.tenantId}, not ${agent}/${tenantId}`);
    return parsed as AgentOutput;
  }
}
