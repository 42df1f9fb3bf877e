import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { InputError, traceCarrier, type UpstreamGuard } from '../../common/index.js';
import type { AgentOutput, InvokeOptions } from '../agent.js';
import { defaultAgentRuntimeGuard, parseAgentAnswer, runtimeInvocation } from './invocation.js';

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
    /** Breaker and deadline per runtime. */
    private readonly guard: UpstreamGuard = defaultAgentRuntimeGuard(),
  ) {}

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
    const arn = this.runtimes[agent];
    if (!arn) throw new InputError(`no AgentCore runtime configured for agent '${agent}'`, { field: 'runtimes' });
    const { sessionId, payload } = runtimeInvocation(agent, tenantId, input, opts);
    const trace = traceCarrier();
    const text = await this.guard.run(`agentcore:${arn}`, async (abortSignal) => {
      const res = await this.client.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: arn,
          runtimeSessionId: sessionId,
          contentType: 'application/json',
          accept: 'application/json',
          payload: Buffer.from(JSON.stringify(payload)),
          ...(opts.traceId ? { traceId: opts.traceId } : {}),
          // The W3C trace context, which AgentCore hands to the runtime (none when tracing is off).
          ...(trace.traceparent ? { traceParent: trace.traceparent } : {}),
        }),
        { abortSignal },
      );
      // The SDK throws on a non-2xx answer (the service's or the runtime's error), so this is a 2xx body.
      return res.response ? await res.response.transformToString() : '';
    });
    return parseAgentAnswer(agent, tenantId, text, 'on AgentCore');
  }
}
