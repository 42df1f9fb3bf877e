import { existsSync } from 'node:fs';
import { compiledManifestFile, FindingError, InputError } from '../common/index.js';
import { loadTrustedKeys } from '../signing/index.js';
import { loadVerifiedManifest, PolicyEngine } from '../policy-packs/index.js';
import { approvalRefusal, ApproverDirectory } from './approval-scope.js';
import type { ApproverKey } from './approval-tokens.js';
import type { ApprovalStore } from './approvals.js';

/** Where an approver's scope is decided: the home's trusted keys, approvers.yaml and the agent's signed manifest. */
export interface ApproverScopeFiles {
  home: string;
  trustedKeysFile: string;
  /** Default `<home>/approvers.yaml`. */
  approversFile?: string;
  /** Default the home's compiled manifest of the request's agent. */
  manifestFile?: string;
}

/**
 * Whether the packs let `approver` decide on request `id`: Cedar's approval decision, over the
 * approval policies of the agent's signed manifest (verified first) and approvers.yaml, for the
 * request's tool, tenant and arguments. A refusal is recorded as evidence signed by the approver
 * and is a finding. Every approver's surface (the CLI, the console) asks this before anything is
 * signed; the gateway decides again over the manifest it serves for every token it counts.
 */
export async function checkApproverScope(
  store: ApprovalStore,
  id: string,
  approver: ApproverKey,
  files: ApproverScopeFiles,
): Promise<void> {
  const trusted = loadTrustedKeys(files.trustedKeysFile);
  const approvers = files.approversFile
    ? ApproverDirectory.load(files.approversFile, trusted)
    : ApproverDirectory.inHome(files.home, trusted);
  const req = store.get(id);
  const engine = agentEngine(req.agent, files.manifestFile ?? compiledManifestFile(files.home, req.agent), files.trustedKeysFile);
  const call = { agent: req.agent, tenant: req.tenant, tool: req.tool, args: req.args, limits: {} };
  const refusal = approvalRefusal(engine, call, approver.name, { resolve: () => undefined }, approvers);
  if (!refusal) return;
  await store.refuse(id, approver, refusal);
  throw new FindingError(`${refusal}. Nothing was signed; the refusal is queued as evidence for the audit trail`);
}

/** The decision engine of an agent's signed manifest (verified first), the one its approval policies come from. */
function agentEngine(agent: string, manifestFile: string, trustedFile: string): PolicyEngine {
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
