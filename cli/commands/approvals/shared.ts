import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, compiledManifestFile, FindingError, InputError } from '../../../common/index.js';
import { loadTrustedKeys } from '../../../signing/index.js';
import { approvalRefusal, ApprovalStore, ApproverDirectory, type ApprovalRequest, type ApproverKey } from '../../../gateway/index.js';
import { loadVerifiedManifest, PolicyEngine } from '../../../policy-packs/index.js';
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
 * The approver a key is, after the packs let them decide on this request: their trusted-keys
 * name, and Cedar's approval decision, over the approval policies of the agent's signed
 * manifest and approvers.yaml, for the request's tool, tenant and arguments. A refusal is
 * recorded as signed evidence and is a finding (exit 1). This is the CLI's check, before
 * anything is signed; the gateway decides again over the manifest it serves for every token
 * it counts.
 */
export async function scopedApprover(id: string, opts: ApproverOpts): Promise<ApproverKey> {
  const approver = approverFromKey(opts.key, opts);
  const trustedFile = opts.trustedKeys ?? join(charterHome(), 'keys', 'trusted-keys.json');
  const trusted = loadTrustedKeys(trustedFile);
  const approvers = opts.approvers ? ApproverDirectory.load(opts.approvers, trusted) : ApproverDirectory.inHome(charterHome(), trusted);
  const requests = store(opts);
  const req = requests.get(id);
  const engine = agentEngine(req.agent, opts.manifest, trustedFile);
  const call = { agent: req.agent, tenant: req.tenant, tool: req.tool, args: req.args, limits: {} };
  const refusal = approvalRefusal(engine, call, approver.name, { resolve: () => undefined }, approvers);
  if (!refusal) return approver;
  await requests.refuse(id, approver, refusal);
  throw new FindingError(`${refusal}. Nothing was signed; the refusal is queued as evidence for the audit trail`);
}

/** The decision engine of an agent's signed manifest (verified first), the one its approval policies come from. */
function agentEngine(agent: string, file: string | undefined, trustedFile: string): PolicyEngine {
  const manifestFile = file ?? compiledManifestFile(charterHome(), agent);
  if (!existsSync(manifestFile))
    throw new InputError(
      `no manifest of agent '${agent}': who may approve is decided over its signed manifest (charter packs compile --agent ${agent}, or --manifest FILE)`,
      { file: manifestFile },
    );
  const { manifest, digest } = loadVerifiedManifest(manifestFile, trustedFile);
  if (manifest.agent.name !== agent)
    throw new InputError(`${manifestFile} is the manifest of agent '${manifest.agent.name}', the request is for '${agent}'`, {
      file: manifestFile,
      field: '--manifest',
    });
  return PolicyEngine.fromManifest(manifest, digest);
}

/** What an approver reviews; the tokens themselves are left out of human output. */
export function summary(r: ApprovalRequest) {
  return { ...r, approvals: r.approvals.map(({ token: _token, ...a }) => a) };
}

export function print(r: ApprovalRequest, json: boolean | undefined): void {
  if (json) return printJson({ ok: true, request: summary(r) });
  printLine(
    `${r.id}  ${r.status}  ${r.tenant}/${r.agent} ${r.tool} (${r.tier}, ${r.approvals.length}/${r.required} approvals)  expires ${r.expiresAt}`,
  );
  printLine(`  args ${JSON.stringify(r.args)}  (${r.argsDigest})`);
  for (const a of r.approvals) printLine(`  approved by ${a.approver} at ${a.at} (token ${a.tokenId})`);
  for (const d of r.denials) printLine(`  denied by ${d.approver} at ${d.at}: ${d.reason}`);
}

/** The audit log has one writer, the gateway: an approver's act reaches the trail through it. */
export function evidenceQueued(json: boolean | undefined): void {
  if (!json) printLine('  evidence queued in the approvals folder; the gateway appends it to the audit trail');
}
