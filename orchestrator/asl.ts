import { createRequire } from 'node:module';
import { FindingError } from '../common/index.js';
import { NODE_RETRY } from './retry.js';
import type { NodeName } from './state.js';

/** asl-validator is CommonJS without types: one function, definition in, `{ isValid, errors }` out. */
type AslValidator = (
  definition: unknown,
  opts?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: Array<{ 'Error code': string; Message: string }> };
const validator = createRequire(import.meta.url)('asl-validator') as AslValidator;

export interface AslOptions {
  region?: string;
  account?: string;
  /** Prefix of the step-invoker Lambda functions (one per node). */
  functionPrefix?: string;
  /**
   * The longest approval wait the tenants' configuration allows (seed: 96 h). Each wait lasts
   * until its approval request's own deadline (TimeoutSecondsPath); this bounds the execution.
   */
  approvalTimeoutSeconds?: number;
}

export interface AslDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, Record<string, unknown>>;
}

/** The step-invoker Lambda of each Task state, by function-name suffix, and the node it runs (see StepInvoker). */
export const STEP_FUNCTIONS = {
  ingest: 'ingest',
  classify: 'classify',
  route: 'route',
  'spot-bidding': 'strategy',
  'leverage-auction': 'strategy',
  'bottleneck-negotiation': 'strategy',
  'strategic-partnership': 'strategy',
  evaluate: 'evaluate',
  approve: 'approve',
  award: 'award',
  review: 'review',
  /** Records the task token of the approval wait (WaitForApproval); runs no node. */
  'approval-request': null,
} as const satisfies Record<string, NodeName | null>;
export type StepFunctionName = keyof typeof STEP_FUNCTIONS;

/** How long one step-invoker Lambda may run: Lambda's own maximum. */
export const STEP_TIMEOUT_SECONDS = 900;
/** The auction the design allows a strategy node: five business days. */
export const AUCTION_BUSINESS_DAYS = 5;
const DAY = 24 * 3600;

/**
 * The most calendar days `businessDays` business days (Monday to Friday) can span, wherever
 * they start: each started run of five crosses at most one weekend. Public holidays are not
 * counted (a tenant whose auctions span them needs a longer execution timeout).
 */
export function calendarDaysSpanned(businessDays: number): number {
  return businessDays + 2 * Math.ceil(businessDays / 5);
}

/**
 * The execution timeout: the longest path runs every Task state once (ingest, classify, route,
 * strategy, evaluate, approval gate twice, award or review), each up to its Lambda timeout with
 * every retry and backoff; the strategy node may run a five-business-day auction; the approval
 * wait lasts up to the approval timeout.
 */
export function executionTimeoutSeconds(approvalTimeoutSeconds: number): number {
  const tasksOnLongestPath = 8;
  const backoff = Array.from({ length: NODE_RETRY.maxAttempts }, (_, i) => (NODE_RETRY.intervalMs / 1000) * NODE_RETRY.backoffRate ** i);
  const perTask = STEP_TIMEOUT_SECONDS * (1 + NODE_RETRY.maxAttempts) + backoff.reduce((a, b) => a + b, 0);
  return calendarDaysSpanned(AUCTION_BUSINESS_DAYS) * DAY + approvalTimeoutSeconds + Math.ceil(tasksOnLongestPath * perTask);
}

// The embedded orchestrator's node retry, on Step Functions: a step invoker that fails with
// ToolFailedError (a tool failed after the gateway allowed it) is retried like a Lambda fault.
const RETRY = [
  {
    ErrorEquals: ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'States.Timeout', 'ToolFailedError'],
    IntervalSeconds: NODE_RETRY.intervalMs / 1000,
    MaxAttempts: NODE_RETRY.maxAttempts,
    BackoffRate: NODE_RETRY.backoffRate,
  },
];

/**
 * The negotiation DAG as a Step Functions state machine, for when one machine is not enough.
 * Every node is a step-invoker Lambda that loads the negotiation from the tenant-keyed store,
 * runs the node (Orchestrator.runNode: deterministic code, or one agent through
 * InvokeAgentRuntime) and checkpoints before returning, exactly as the embedded orchestrator
 * does. Choices read the step's compact output (status, route). Node 6 decides every approval
 * outcome: above the threshold it opens the request and the execution waits on a task token
 * until the request's deadline; `charter approvals approve|deny` returns the token, a timeout
 * ends the wait, and node 6 runs again to read what the human decided (approved, denied,
 * expired), as the embedded engine's resume does.
 */
export function exportAsl(opts: AslOptions = {}): AslDefinition {
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '123456789012';
  const prefix = opts.functionPrefix ?? 'charter-negotiation';
  const fn = (name: StepFunctionName) => `arn:aws:lambda:${region}:${account}:function:${prefix}-${name}`;
  const task = (name: StepFunctionName, next: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: fn(name), 'Payload.$': '$' },
    OutputPath: '$.Payload',
    TimeoutSeconds: STEP_TIMEOUT_SECONDS,
    Retry: RETRY,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NodeFailed' }],
    Next: next,
    ...extra,
  });
  const strategy = (name: StepFunctionName) => task(name, 'BidsReceived?');
  const attention = { Variable: '$.status', StringEquals: 'REQUIRES_ATTENTION', Next: 'ComplianceReview' };
  return {
    Comment:
      'Charter procurement negotiation: the seven-node DAG of the reference workload (checkpoint after every node, keyed tenant_id#negotiation_id).',
    StartAt: 'IngestAndValidate',
    TimeoutSeconds: executionTimeoutSeconds(opts.approvalTimeoutSeconds ?? 96 * 3600),
    States: {
      IngestAndValidate: task('ingest', 'Admitted?', {
        Catch: [
          { ErrorEquals: ['AdmissionDenied'], ResultPath: '$.error', Next: 'AdmissionDenied' },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NodeFailed' },
        ],
      }),
      'Admitted?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.status', StringEquals: 'TERMINATED', Next: 'Terminated' }],
        Default: 'KraljicClassify',
      },
      KraljicClassify: task('classify', 'StrategyRouter'),
      StrategyRouter: task('route', 'Route'),
      Route: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.status', StringEquals: 'CANCELLED', Next: 'Cancelled' },
          { Variable: '$.route.node', StringEquals: '4a', Next: 'SpotBidding' },
          { Variable: '$.route.node', StringEquals: '4b', Next: 'LeverageAuction' },
          { Variable: '$.route.node', StringEquals: '4c', Next: 'BottleneckNegotiation' },
          { Variable: '$.route.node', StringEquals: '4d', Next: 'StrategicPartnership' },
        ],
        Default: 'NodeFailed',
      },
      SpotBidding: strategy('spot-bidding'),
      LeverageAuction: strategy('leverage-auction'),
      BottleneckNegotiation: strategy('bottleneck-negotiation'),
      StrategicPartnership: strategy('strategic-partnership'),
      'BidsReceived?': { Type: 'Choice', Choices: [attention], Default: 'Evaluate' },
      Evaluate: task('evaluate', 'Awardable?'),
      'Awardable?': { Type: 'Choice', Choices: [attention], Default: 'ApprovalGate' },
      ApprovalGate: task('approve', 'ApprovalOutcome'),
      ApprovalOutcome: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.status', StringEquals: 'AWAITING_APPROVAL', Next: 'WaitForApproval' },
          { Variable: '$.status', StringEquals: 'CANCELLED', Next: 'Cancelled' },
          attention,
        ],
        Default: 'Award',
      },
      WaitForApproval: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: fn('approval-request'), Payload: { 'taskToken.$': '$$.Task.Token', 'negotiation.$': '$' } },
        // Until the approval request's own deadline (node 6 computes it from the request).
        TimeoutSecondsPath: '$.approvalWaitSeconds',
        // The decision is read from the approval request by node 6, not from the token's output.
        ResultPath: null,
        Catch: [
          { ErrorEquals: ['States.Timeout', 'ApprovalDenied', 'ApprovalExpired'], ResultPath: null, Next: 'ApprovalGate' },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NodeFailed' },
        ],
        Next: 'ApprovalGate',
      },
      Award: task('award', 'Awarded'),
      ComplianceReview: task('review', 'RequiresAttention'),
      Awarded: { Type: 'Succeed' },
      RequiresAttention: { Type: 'Succeed', Comment: 'REQUIRES_ATTENTION: a compliance finding is open for a human.' },
      Cancelled: { Type: 'Succeed', Comment: 'CANCELLED: no eligible supplier, or the award was denied.' },
      Terminated: { Type: 'Fail', Error: 'RequisitionInvalid', Cause: 'validation failed at node 1: PR cancelled' },
      AdmissionDenied: { Type: 'Fail', Error: 'AdmissionDenied', Cause: 'tenant at its maximum slots: HTTP 429, retry after Retry-After' },
      NodeFailed: { Type: 'Fail', Error: 'NodeFailed', Cause: 'a node failed after retries; resume from the last checkpoint' },
    },
  };
}

/** Checks a definition with asl-validator; a problem is a finding naming each error. */
export function validateAsl(definition: unknown): void {
  const { isValid, errors } = validator(definition, { checkPaths: true, checkArn: true });
  if (!isValid) {
    const lines = errors.map((e) => `${e['Error code']}: ${e.Message}`);
    throw new FindingError(`the Step Functions definition is not valid ASL: ${lines[0] ?? 'unknown error'}`, undefined, lines.slice(1));
  }
}
