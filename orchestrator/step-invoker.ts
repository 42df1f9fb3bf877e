import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { InputError, validateWith } from '../common/index.js';
import type { ApprovalStore } from '../gateway/index.js';
import { STEP_FUNCTIONS, type StepFunctionName } from './asl.js';
import type { Orchestrator } from './orchestrator.js';
import type { NegotiationState } from './state.js';
import type { RunnerStore } from './runner-store.js';

/** What each step returns to the state machine: what its Choice states read, nothing more (state stays in the store). */
export interface StepOutput {
  tenantId: string;
  negotiationId: string;
  status: NegotiationState['status'];
  route?: { node: string };
  /** Seconds until the approval request's deadline, while the negotiation waits for a human. */
  approvalWaitSeconds?: number;
}

const Start = z.object({ tenantId: z.string().min(1), requisition: z.unknown() });
const Step = z.object({ tenantId: z.string().min(1), negotiationId: z.string().min(1) });
const ApprovalWait = z.object({ taskToken: z.string().min(1), negotiation: Step });

/** What completes a Step Functions task token: SendTaskSuccess / SendTaskFailure (see sfnTaskCallbacks). */
export interface TaskCallbacks {
  success(taskToken: string, output: unknown): Promise<void>;
  failure(taskToken: string, error: string, cause: string): Promise<void>;
}

/** Task callbacks through the Step Functions API (the engine's endpoint: AWS, or a local one). */
export function sfnTaskCallbacks(client: SFNClient): TaskCallbacks {
  return {
    async success(taskToken, output) {
      await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    async failure(taskToken, error, cause) {
      await client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
    },
  };
}

/**
 * The step-invoker Lambdas of the Step Functions export, as one handler routed by function name
 * (a deployment registers it under each name of STEP_FUNCTIONS). Each runs one node through
 * Orchestrator.runNode against the shared store; the state machine only routes on the output.
 */
export class StepInvoker {
  constructor(
    private readonly orchestrator: Orchestrator,
    private readonly store: RunnerStore,
    private readonly approvals: ApprovalStore,
    private readonly callbacks: TaskCallbacks,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Lambda named by `functionName` (an ARN or a name ending in `-<step>`), with the state's payload. */
  async invoke(functionName: string, payload: unknown): Promise<StepOutput | null> {
    const name = (Object.keys(STEP_FUNCTIONS) as StepFunctionName[]).find((n) => functionName.endsWith(`-${n}`));
    if (!name) throw new InputError(`no step invoker for function '${functionName}'`, { field: 'FunctionName' });
    if (name === 'approval-request') return this.approvalRequest(validateWith(ApprovalWait, payload, `${name} payload`));
    if (name === 'ingest') {
      const start = validateWith(Start, payload, 'execution input');
      return this.output(await this.orchestrator.submit(start.tenantId, start.requisition));
    }
    const step = validateWith(Step, payload, `${name} payload`);
    return this.output(await this.orchestrator.runNode(step.tenantId, step.negotiationId, STEP_FUNCTIONS[name]));
  }

  /**
   * The approval wait: the task token is kept beside the negotiation's approval request, where
   * `charter approvals approve|deny` finds it. A request decided before the token was kept
   * (the approver was quicker than this step) is completed here, so no decision waits for the deadline.
   */
  private async approvalRequest({ taskToken, negotiation }: z.infer<typeof ApprovalWait>): Promise<null> {
    const state = await this.store.load(negotiation.tenantId, negotiation.negotiationId);
    const approvalId = state?.approval?.approvalId;
    if (!state || !approvalId)
      throw new InputError(`negotiation '${negotiation.negotiationId}' of '${negotiation.tenantId}' has no approval request to wait on`);
    this.store.local.recordTaskToken(state.tenantId, approvalId, taskToken);
    const request = this.approvals.get(approvalId, this.now());
    if (request.status !== 'pending') await completeApprovalTask(this.callbacks, taskToken, request.status, request.id);
    return null;
  }

  private output(state: NegotiationState): StepOutput {
    const deadline = state.status === 'AWAITING_APPROVAL' && state.approval?.deadline ? Date.parse(state.approval.deadline) : undefined;
    return {
      tenantId: state.tenantId,
      negotiationId: state.negotiationId,
      status: state.status,
      ...(state.route ? { route: { node: state.route.node } } : {}),
      ...(deadline !== undefined ? { approvalWaitSeconds: Math.max(1, Math.ceil((deadline - this.now()) / 1000)) } : {}),
    };
  }
}

/**
 * Returns an approval wait's task token once its request is decided: success when approved,
 * failure `ApprovalDenied` when denied, `ApprovalExpired` when expired. Either way node 6 runs
 * next and reads the decision from the request itself.
 */
export async function completeApprovalTask(callbacks: TaskCallbacks, taskToken: string, status: string, approvalId: string): Promise<void> {
  if (status === 'approved') await callbacks.success(taskToken, { approvalId, status });
  else if (status === 'denied') await callbacks.failure(taskToken, 'ApprovalDenied', `approval ${approvalId} was denied`);
  else if (status === 'expired') await callbacks.failure(taskToken, 'ApprovalExpired', `approval ${approvalId} expired`);
}
