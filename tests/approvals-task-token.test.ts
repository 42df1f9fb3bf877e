import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { contentPath } from '../common/index.js';
import { NegotiationStore } from '../orchestrator/index.js';
import { digestJson } from '../signing/index.js';
import { openGatewayHarness, type GatewayHarness } from './gateway-harness.js';
import { startStepFunctionsServer, type StepFunctionsServer } from './servers/stepfunctions.js';

/**
 * `charter approvals approve|deny` returns the task token an execution waits on (kept in the
 * home's negotiation store beside the approval request) through @aws-sdk/client-sfn against the
 * engine's endpoint (AWS_ENDPOINT_URL_SFN): success once the request is approved, nothing while
 * it is still pending, failure `ApprovalDenied` when denied.
 */
const CLI = contentPath('dist', 'cli', 'main.js');
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

// One wait on a task token, as WaitForApproval of the export: its Lambda keeps the token beside the request.
const WAIT = {
  StartAt: 'WaitForApproval',
  States: {
    WaitForApproval: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:charter-negotiation-approval-request',
        Payload: { 'taskToken.$': '$$.Task.Token', 'approvalId.$': '$.approvalId' },
      },
      TimeoutSeconds: 600,
      End: true,
    },
  },
};

let h: GatewayHarness;
let store: NegotiationStore;
let server: StepFunctionsServer;
let sfn: SFNClient;

beforeAll(async () => {
  h = await openGatewayHarness();
  store = new NegotiationStore(join(h.home, 'orchestrator', 'negotiations.sqlite'));
  server = await startStepFunctionsServer(WAIT, async (_fn, payload) => {
    const { taskToken, approvalId } = payload as { taskToken: string; approvalId: string };
    store.recordTaskToken('acme', approvalId, taskToken);
    return null;
  });
  sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials });
}, 60_000);
afterAll(async () => {
  store.close();
  await server.close();
  await h.close();
});

/** The built CLI, run asynchronously: the engine it calls back answers from this process. */
async function charter(...args: string[]) {
  const env = {
    ...process.env,
    CHARTER_HOME: h.home,
    AWS_ENDPOINT_URL_SFN: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 2, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const keyFile = (name: string) => join(h.home, 'keys', `${name}.key.pem`);

/** A write-high request (two approvers) and an execution waiting on it, its token kept. */
async function waitingOn(supplierId: string): Promise<{ id: string; executionArn: string }> {
  const args = { negotiationId: 'acme-n1', supplierId };
  const { id } = h.approvals.request({
    tenant: 'acme',
    agent: 'spot-bidding',
    tool: 'award_contract',
    tier: 'write-high',
    required: 2,
    args,
    argsDigest: digestJson({ ...args, tenant_id: 'acme' }),
    requestedBy: 'svc-spot-bidding',
    ttlSeconds: 600,
  });
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: server.stateMachineArn, name: id, input: JSON.stringify({ approvalId: id }) }),
  );
  while (!store.taskToken('acme', id)) await sleep(20);
  return { id, executionArn: executionArn! };
}

async function ended(executionArn: string) {
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await sleep(20);
  }
}

test('approve returns the token once the request is approved, not while it is pending', async () => {
  const { id, executionArn } = await waitingOn('acme-s1');
  const first = await charter('approvals', 'approve', id, '--key', keyFile('alice'), '--json');
  expect(first.code, first.stderr).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ request: { status: 'pending' } });
  expect(JSON.parse(first.stdout).taskTokenReturned).toBeUndefined();
  expect(server.waiting()).toContain(store.taskToken('acme', id));
  const second = await charter('approvals', 'approve', id, '--key', keyFile('bob'));
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toMatch(/returned the Step Functions task token of the negotiation waiting on it \(approved\)/);
  expect(await ended(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ approvalId: id, status: 'approved' }) });
}, 240_000);

test('deny returns the token as the failure ApprovalDenied', async () => {
  const { id, executionArn } = await waitingOn('acme-s2');
  const r = await charter('approvals', 'deny', id, '--key', keyFile('alice'), '--reason', 'supplier under review', '--json');
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ request: { status: 'denied' }, taskTokenReturned: true });
  expect(await ended(executionArn)).toMatchObject({ status: 'FAILED', error: 'ApprovalDenied' });
}, 240_000);
