import {
  agentAnswerError,
  defaultAgentRuntimeGuard,
  parseAgentAnswer,
  runtimeInvocation,
  SESSION_HEADER,
  type AgentOutput,
  type InvokeOptions,
} from '../agents/index.js';
import { traceCarrier, type UpstreamGuard } from '../common/index.js';
import type { AgentSupervisor } from './agent-supervisor.js';
import type { InvocationCredentials } from './invocation-credentials.js';
import type { AgentDispatcher } from './orchestrator.js';

/**
 * Dispatches to agents running as local processes behind the AgentCore Runtime contract:
 * `POST /invocations` with the session header and a freshly minted identity token (tenant and
 * agent set by the platform). Answers are checked as for AgentCore, plus the manifest: the
 * process must run the manifest the gateway enforces for that agent.
 */
export class ProcessAgents implements AgentDispatcher {
  constructor(
    private readonly supervisor: AgentSupervisor,
    /** Identity token and signed envelope of every invocation, and the manifest its answer must name. */
    private readonly credentials: InvocationCredentials,
    /** Breaker and deadline per agent process. */
    private readonly guard: UpstreamGuard = defaultAgentRuntimeGuard(),
  ) {}

  async invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput> {
    const process = await this.supervisor.endpoint(agent);
    const { sessionId, payload } = runtimeInvocation(agent, tenantId, input, opts);
    const { headers, manifestDigest } = await this.credentials.sign(agent, tenantId, payload);
    // The runtime's breaker counts what says the runtime is unwell (no answer, a 5xx); a 4xx is
    // this invocation's fault and is thrown after the guard.
    const answer = await this.guard.run(`process:${agent}`, async (signal) => {
      let answer: { status: number; text: string };
      try {
        const res = await fetch(`${process.url}/invocations`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SESSION_HEADER]: sessionId,
            ...headers,
            // The W3C trace context of the agent.invoke span (none when tracing is off).
            ...traceCarrier(),
          },
          body: JSON.stringify(payload),
          signal,
        });
        answer = { status: res.status, text: await res.text() };
      } catch (err) {
        throw await process.failure(err);
      }
      if (answer.status >= 500) throw agentAnswerError(agent, answer.status, answer.text, 'in its process');
      return answer;
    });
    if (answer.status < 200 || answer.status > 299) throw agentAnswerError(agent, answer.status, answer.text, 'in its process');
    return parseAgentAnswer(agent, tenantId, answer.text, 'in its process', manifestDigest);
  }
}
