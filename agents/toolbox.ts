import { FindingError, traceCarrier } from '../common/index.js';
import { currentTenant } from './tenant-context.js';

/** What the gateway said about one call (the `_meta["charter/decision"]` of its MCP result). */
export interface ToolDecision {
  outcome: 'allowed' | 'guarded' | 'approved' | 'approval-pending' | 'denied';
  decision: 'allow' | 'deny';
  recordId: string;
  reasons: string[];
  approvalRequest?: { id: string; required: number; approvers: number };
}

export interface ToolResult {
  decision: ToolDecision | undefined;
  /** The tool's JSON result (structured content, or the first text block parsed as JSON). */
  value: unknown;
  isError: boolean;
  /** The error text of a blocked or failed call. */
  error?: string;
}

/**
 * The one way an agent reaches a tool: the gateway, here as an MCP client connected for one
 * verified identity (tenant and agent). Implemented over the gateway's MCP server, in process
 * or over HTTP; agents never hold a tool implementation.
 */
export interface ToolChannel {
  callTool(tool: string, args: Record<string, unknown>, meta: Record<string, unknown>): Promise<ToolResult>;
}

/** Opens a gateway channel for a tenant and agent (the factory's only route to tools). */
export type ToolChannelFactory = (tenantId: string, agent: string) => Promise<ToolChannel>;

export class ToolDeniedError extends FindingError {
  constructor(
    readonly tool: string,
    readonly result: ToolResult,
  ) {
    super(`tool ${tool} was refused: ${result.error ?? result.decision?.reasons.join('; ') ?? 'no reason given'}`);
    this.name = 'ToolDeniedError';
  }
}

/**
 * A call the gateway allowed whose tool then failed (upstream down, timeout, a tool error). Not
 * a governance outcome: the orchestrator retries the node (NodeRetry), then keeps its checkpoint for a resume.
 */
export class ToolFailedError extends FindingError {
  constructor(
    readonly tool: string,
    readonly result: ToolResult,
  ) {
    super(`tool ${tool} failed after the gateway allowed it: ${result.error ?? 'no reason given'}`);
    this.name = 'ToolFailedError';
  }
}

/** Outcomes by which the gateway blocked a call; any other failed call failed at the tool. */
const REFUSED = new Set(['denied', 'approval-pending']);

/**
 * An agent's tools. Every call reads the tenant from the ambient context and refuses to run
 * for any other tenant than the one the channel was opened for, then goes to the gateway with
 * the trace and run ids of the invocation.
 */
export class Toolbox {
  /** The calls made through this toolbox (one toolbox per invocation). */
  readonly calls: Array<{ tool: string; outcome: string }> = [];

  constructor(
    private readonly channel: ToolChannel,
    readonly tenantId: string,
    readonly agent: string,
    /** Tools whose argument contract takes `tenant_id` (from the agent's manifest). */
    private readonly takesTenant: ReadonlySet<string>,
  ) {}

  /** Calls a tool; a blocked or failed call is returned, not thrown (the agent decides). */
  async tryCall(tool: string, args: Record<string, unknown>, approvalTokens: string[] = []): Promise<ToolResult> {
    // tenant_id is always the context's: the gateway would refuse any other and rewrites it anyway.
    const sent = this.takesTenant.has(tool) ? { ...args, tenant_id: this.tenantId } : args;
    return this.send(tool, sent, approvalTokens.length ? { 'charter/approvalTokens': approvalTokens } : {});
  }

  /**
   * Sends a model's proposal as the model made it: unlike `tryCall`, a `tenant_id` in it is not
   * overwritten, so a model that names another tenant is denied and recorded by the gateway's
   * tenant binding instead of being quietly corrected (the gateway fills in the claim's tenant
   * when the model names none).
   */
  async propose(tool: string, args: Record<string, unknown>): Promise<ToolResult> {
    return this.send(tool, args, {});
  }

  /**
   * Sends a proposal the agent itself stops (a model's call past a loop bound, or malformed) to
   * the gateway, which records it as a deny with `reason` and forwards nothing: every proposal
   * leaves a decision record, including the ones that never became a call.
   */
  async stop(tool: string, reason: string): Promise<ToolResult> {
    return this.send(tool, {}, { 'charter/stopped': reason });
  }

  private async send(tool: string, args: Record<string, unknown>, extra: Record<string, unknown>): Promise<ToolResult> {
    const ctx = currentTenant();
    if (ctx.tenantId !== this.tenantId) {
      throw new FindingError(
        `tenant context violation: ${this.agent} bound to '${this.tenantId}' called ${tool} inside a run of '${ctx.tenantId}'`,
      );
    }
    const meta: Record<string, unknown> = { ...extra, ...traceCarrier() };
    if (ctx.traceId) meta['charter/traceId'] = ctx.traceId;
    if (ctx.negotiationId) meta['charter/runId'] = ctx.negotiationId;
    const result = await this.channel.callTool(tool, args, meta);
    this.calls.push({ tool, outcome: result.decision?.outcome ?? (result.isError ? 'error' : 'ok') });
    return result;
  }

  /**
   * Calls a tool and returns its value. A call the gateway refused (or that carries no decision:
   * nothing proves it was allowed) throws ToolDeniedError; an allowed call whose tool failed
   * throws ToolFailedError.
   */
  async call<T = unknown>(tool: string, args: Record<string, unknown>): Promise<T> {
    const result = await this.tryCall(tool, args);
    if (result.isError)
      throw !result.decision || REFUSED.has(result.decision.outcome)
        ? new ToolDeniedError(tool, result)
        : new ToolFailedError(tool, result);
    return result.value as T;
  }
}
