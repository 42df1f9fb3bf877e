import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { InputError, traceCarrier, type UpstreamGuard } from '../../common/index.js';
import type { AgentOutput, InvokeOptions } from '../agent.js';
import { defaultAgentRuntimeGuard, parseAgentAnswer, runtimeInvocation, type InvocationAuth } from './invocation.js';

/**
 * Agents on AgentCore Runtime, invoked with InvokeAgentRuntime (endpoint from the AWS settings,
 * e.g. AWS_ENDPOINT_URL_BEDROCK_AGENTCORE). One runtime per agent; the runtime session is the
 * tenant's negotiation (same tenant and negotiation, same session), so session state is never
 * shared across tenants. Answers are checked like any untrusted input, tenant included. With
 * `auth`, each invocation carries the platform's identity token and signed envelope as request
 * headers (signed with the request; the runtime's request-header allowlist lets them through to
 * the container, which refuses an invocation without them) and its answer must name the
 * manifest the gateway enforces.
 */
export class AgentCoreAgents {
  constructor(
    /** Runtime ARN per agent name. */
    private readonly runtimes: Readonly<Record<string, string>>,
    private readonly client: BedrockAgentCoreClient = new BedrockAgentCoreClient({}),
    /** Breaker and deadline per runtime. */
    private readonly guard: UpstreamGuard = defaultAgentRuntimeGuard(),
    private readonly auth?: InvocationAuth,
  ) {}

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
    const arn = this.runtimes[agent];
    if (!arn) throw new InputError(`no AgentCore runtime configured for agent '${agent}'`, { field: 'runtimes' });
    const { sessionId, payload } = runtimeInvocation(agent, tenantId, input, opts);
    const trace = traceCarrier();
    const signed = await this.auth?.sign(agent, tenantId, payload);
    const text = await this.guard.run(`agentcore:${arn}`, async (abortSignal) => {
      const command = new InvokeAgentRuntimeCommand({
        agentRuntimeArn: arn,
        runtimeSessionId: sessionId,
        contentType: 'application/json',
        accept: 'application/json',
        payload: Buffer.from(JSON.stringify(payload)),
        ...(opts.traceId ? { traceId: opts.traceId } : {}),
        // The W3C trace context, which AgentCore hands to the runtime (none when tracing is off).
        ...(trace.traceparent ? { traceParent: trace.traceparent } : {}),
      });
      // InvokeAgentRuntime has no member for custom headers: added before signing, so SigV4 covers them.
      if (signed)
        command.middlewareStack.add(
          (next) => (args) => {
            const request = args.request as { headers: Record<string, string> };
            Object.assign(request.headers, signed.headers);
            return next(args);
          },
          { step: 'build', name: 'charterInvocationHeaders' },
        );
      const res = await this.client.send(command, { abortSignal });
      // The SDK throws on a non-2xx answer (the service's or the runtime's error), so this is a 2xx body.
      return res.response ? await res.response.transformToString() : '';
    });
    return parseAgentAnswer(agent, tenantId, text, 'on AgentCore', signed?.manifestDigest);
  }
}
