import { createRequire } from 'node:module';
import { FindingError } from '../common/index.js';
import { NODE_RETRY } from './retry.js';

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
  /** Human approval timeout of node 6 (seed: 96 h). */
  approvalTimeoutSeconds?: number;
}

export interface AslDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, Record<string, unknown>>;
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
 * runs the node (deterministic code, or one agent through InvokeAgentRuntime) and checkpoints
 * before returning, exactly as the embedded orchestrator does; node 6 waits on a task token.
 */
export function exportAsl(opts: AslOptions = {}): AslDefinition {
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '123456789012';
  const prefix = opts.functionPrefix ?? 'charter-negotiation';
  const fn = (node: string) => `arn:aws:lambda:${region}:${account}:function:${prefix}-${node}`;
  const task = (node: string, next: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: fn(node), 'Payload.$': '$' },
    OutputPath: '$.Payload',
    Retry: RETRY,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NodeFailed' }],
    Next: next,
    ...extra,
  });
  const strategy = (node: string) => task(node, 'BidsReceived?');
  return {
    Comment:
      'Charter procurement negotiation: the seven-node DAG of the reference workload (checkpoint after every node, keyed tenant_id#negotiation_id).',
    StartAt: 'IngestAndValidate',
    TimeoutSeconds: 7 * 24 * 3600,
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
      'BidsReceived?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.status', StringEquals: 'REQUIRES_ATTENTION', Next: 'ComplianceReview' }],
        Default: 'Evaluate',
      },
      Evaluate: task('evaluate', 'Awardable?'),
      'Awardable?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.status', StringEquals: 'REQUIRES_ATTENTION', Next: 'ComplianceReview' }],
        Default: 'ApprovalGate',
      },
      ApprovalGate: task('approve', 'ApprovalNeeded?'),
      'ApprovalNeeded?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.status', StringEquals: 'AWAITING_APPROVAL', Next: 'WaitForApproval' }],
        Default: 'Award',
      },
      WaitForApproval: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: fn('approval-request'), Payload: { 'taskToken.$': '$$.Task.Token', 'negotiation.$': '$' } },
        TimeoutSeconds: opts.approvalTimeoutSeconds ?? 96 * 3600,
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'ApprovalTimedOut' },
          { ErrorEquals: ['ApprovalDenied'], ResultPath: '$.error', Next: 'Cancelled' },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NodeFailed' },
        ],
        Next: 'Award',
      },
      ApprovalTimedOut: { Type: 'Pass', Result: 'approval_timeout', ResultPath: '$.attentionTrigger', Next: 'ComplianceReview' },
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
