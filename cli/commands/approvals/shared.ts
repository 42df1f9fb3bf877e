import { join } from 'node:path';
import type { Command } from 'commander';
import { SFNClient } from '@aws-sdk/client-sfn';
import { charterHome, errorMessage, FindingError } from '../../../common/index.js';
import { ApprovalStore, checkApproverScope, withoutTokens, type ApprovalRequest, type ApproverKey } from '../../../gateway/index.js';
import { completeApprovalTask, sfnTaskCallbacks } from '../../../orchestrator/index.js';
import { openHomeNegotiationStore } from '../negotiations/home.js';
import { printJson, printLine } from '../../output.js';
import { withJson } from '../../program.js';
import { approverFromKey } from '../operator-input.js';

export interface StoreOpts {
  dir?: string;
  json?: boolean;
}

export interface ApproverOpts extends StoreOpts {
  key: string;
  trustedKeys?: string;
  as?: string;
  manifest?: string;
  approvers?: string;
}

export const store = (opts: StoreOpts) => new ApprovalStore(opts.dir);

/** `--dir` and `--json`, which every approvals verb takes. */
export const withDir = (cmd: Command) => withJson(cmd.option('--dir <dir>', 'approvals folder (default $CHARTER_HOME/approvals)'));

/** What an approver's verbs (approve, deny) take: the key, and where its name and its scope come from. */
export const withApprover = (cmd: Command) =>
  withDir(
    cmd
      .requiredOption('--key <file>', 'your private key (PKCS#8 PEM), trusted for the approval purpose')
      .option('--trusted-keys <file>', 'trusted keys naming your key (default $CHARTER_HOME/keys/trusted-keys.json)')
      .option('--as <approver>', "optional cross-check: must be your key's name in the trusted-keys file")
      .option('--approvers <file>', 'who may approve what: tenants, spend limit, roles (default $CHARTER_HOME/approvers.yaml)')
      .option(
        '--manifest <file>',
        "the request's agent's signed manifest, whose approval policies decide (default $CHARTER_HOME/manifests/<agent>.manifest.json)",
      ),
  );

/**
 * The approver a key is, after the packs let them decide on this request (checkApproverScope:
 * a refusal is recorded as signed evidence and is a finding, exit 1).
 */
export async function scopedApprover(id: string, opts: ApproverOpts): Promise<ApproverKey> {
  const approver = approverFromKey(opts.key, opts);
  const home = charterHome();
  const trustedKeysFile = opts.trustedKeys ?? join(home, 'keys', 'trusted-keys.json');
  await checkApproverScope(store(opts), id, approver, {
    home,
    trustedKeysFile,
    approversFile: opts.approvers,
    manifestFile: opts.manifest,
  });
  return approver;
}

export function print(r: ApprovalRequest, json: boolean | undefined, taskTokenReturned = false): void {
  if (json) return printJson({ ok: true, request: withoutTokens(r), ...(taskTokenReturned ? { taskTokenReturned } : {}) });
  printLine(
    `${r.id}  ${r.status}  ${r.tenant}/${r.agent} ${r.tool} (${r.tier}, ${r.approvals.length}/${r.required} approvals)  expires ${r.expiresAt}`,
  );
  printLine(`  args ${JSON.stringify(r.args)}  (${r.argsDigest})`);
  for (const a of r.approvals) printLine(`  approved by ${a.approver} at ${a.at} (token ${a.tokenId})`);
  for (const d of r.denials) printLine(`  denied by ${d.approver} at ${d.at}: ${d.reason}`);
  if (taskTokenReturned) printLine(`  returned the Step Functions task token of the negotiation waiting on it (${r.status})`);
}

/** The audit log has one writer, the gateway: an approver's act reaches the trail through it. */
export function evidenceQueued(json: boolean | undefined): void {
  if (!json) printLine('  evidence queued in the approvals folder; the gateway appends it to the audit trail');
}

/**
 * On the distributed path a negotiation waits in Step Functions on a task token kept beside its
 * approval request (StepInvoker): a decided request returns it, SendTaskSuccess when approved,
 * SendTaskFailure `ApprovalDenied` when denied, through the Step Functions API (the SDK's endpoint
 * settings, e.g. AWS_ENDPOINT_URL_SFN for a local engine). No token kept (the embedded engine, or
 * a request that is no negotiation's): nothing to send, a resume reads the decision.
 */
export async function returnTaskToken(r: ApprovalRequest): Promise<boolean> {
  if (r.status === 'pending') return false;
  const negotiations = openHomeNegotiationStore(charterHome(), { ifExists: true });
  if (!negotiations) return false;
  let token: string | undefined;
  try {
    token = negotiations.taskToken(r.tenant, r.id);
  } finally {
    negotiations.close();
  }
  if (!token) return false;
  try {
    await completeApprovalTask(sfnTaskCallbacks(new SFNClient({})), token, r.status, r.id);
  } catch (err) {
    throw new FindingError(
      `request ${r.id} is ${r.status}, but Step Functions refused its task token: ${errorMessage(err)} (the waiting execution reads the decision at its deadline)`,
    );
  }
  return true;
}
