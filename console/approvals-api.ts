import { join } from 'node:path';
import { FindingError, InputError } from '../common/index.js';
import { loadTrustedKeys, type KeyPurpose, type TrustedKey } from '../signing/index.js';
import {
  ApprovalStore,
  changeKillSwitch,
  checkApproverScope,
  KillSwitchFile,
  knownTenants,
  switchableAgents,
  switchTarget,
  trustedActor,
  withoutTokens,
  type ApprovalRequest,
} from '../gateway/index.js';
import type { BrowserSigning, SigningStep } from './browser-signing.js';
import { NotFound } from './guard.js';
import type { SwitchRow } from './pages-types.js';

/** Who is signed in, as the console's guard passed them: their name and, when scoped, their tenant. */
export interface Viewer {
  name: string;
  tenant?: string;
}

const trustedKeysFile = (home: string) => join(home, 'keys', 'trusted-keys.json');
const store = (home: string) => new ApprovalStore(join(home, 'approvals'));

/** A request as the queue shows it: no tokens, and the seconds left before it expires. */
export type QueueEntry = ReturnType<typeof withoutTokens> & { secondsLeft: number };

/** The home's approval requests a viewer may see (a tenant-scoped viewer: their tenant's only), pending first, newest first. */
export function approvalQueue(home: string, viewer: Viewer, now = Date.now()): QueueEntry[] {
  const rank = (r: ApprovalRequest) => (r.status === 'pending' ? 0 : 1);
  return store(home)
    .list(now)
    .filter((r) => viewer.tenant === undefined || r.tenant === viewer.tenant)
    .sort((a, b) => rank(a) - rank(b) || b.requestedAt.localeCompare(a.requestedAt))
    .map((r) => ({ ...withoutTokens(r), secondsLeft: Math.max(0, Math.floor((Date.parse(r.expiresAt) - now) / 1000)) }));
}

/** One request, or not found: a tenant-scoped viewer is told of another tenant's request exactly as of one that does not exist. */
export function approvalRequest(home: string, viewer: Viewer, id: string, now = Date.now()): ApprovalRequest {
  const s = store(home);
  const notFound = () => new NotFound(`approval request ${id}`);
  let req: ApprovalRequest;
  try {
    req = s.get(id, now);
  } catch {
    throw notFound();
  }
  if (viewer.tenant !== undefined && req.tenant !== viewer.tenant) throw notFound();
  return req;
}

/**
 * The signed-in user's key, by id: trusted for one of `purposes`, and theirs. The key's name in
 * the trusted-keys file is who acts (as in the CLI); signing in as one person with another's key
 * is refused, like the CLI's `--as` cross-check.
 */
function viewersKey(home: string, viewer: Viewer, keyId: string, purposes: KeyPurpose[]): TrustedKey {
  const actor = trustedActor(keyId, loadTrustedKeys(trustedKeysFile(home)), purposes);
  if (actor.name !== viewer.name)
    throw new FindingError(
      `the key is '${actor.name}' in the trusted-keys file, and you are signed in as '${viewer.name}': the signer is the key's name`,
    );
  return actor;
}

export interface ApprovalActInput {
  id: string;
  decision: 'approve' | 'deny';
  reason?: string;
  keyId: string;
}

/**
 * Approve or deny, signed in the browser: the same checks and writes as `charter approvals
 * approve|deny` (checkApproverScope: Cedar over the agent's signed manifest and approvers.yaml;
 * ApprovalStore: not the requester, one person counts once, tokens and evidence signed by the
 * approver's key), with the signatures asked of the browser step by step.
 */
export async function startApprovalAct(
  home: string,
  signing: BrowserSigning,
  viewer: Viewer,
  input: ApprovalActInput,
): Promise<SigningStep<ReturnType<typeof withoutTokens>>> {
  approvalRequest(home, viewer, input.id);
  const reason = input.reason?.trim() ?? '';
  if (input.decision === 'deny' && !reason) throw new InputError('a denial needs a reason', { field: 'reason' });
  const actor = viewersKey(home, viewer, input.keyId, ['approval']);
  const s = store(home);
  return signing.start(viewer.name, actor, async (approver) => {
    await checkApproverScope(s, input.id, approver, { home, trustedKeysFile: trustedKeysFile(home) });
    const req = input.decision === 'approve' ? await s.approve(input.id, approver) : await s.deny(input.id, approver, reason);
    return withoutTokens(req);
  });
}

/**
 * The engaged switches a viewer may see (a tenant-scoped viewer: their tenant's and the agents'),
 * and what may be switched (tenants of tenants.yaml, agents declared or compiled).
 */
export function killSwitches(home: string, viewer: Viewer): { engaged: SwitchRow[]; tenants: string[]; agents: string[] } {
  const doc = KillSwitchFile.inHome(home).read();
  const visible = (t: string) => viewer.tenant === undefined || t === viewer.tenant;
  const engaged = [
    ...Object.entries(doc.tenants)
      .filter(([id]) => visible(id))
      .map(([id, e]) => ({ kind: 'tenant' as const, id, ...e })),
    ...Object.entries(doc.agents).map(([id, e]) => ({ kind: 'agent' as const, id, ...e })),
  ];
  return { engaged, tenants: knownTenants(home).filter(visible), agents: switchableAgents(home) };
}

export interface SwitchActInput {
  verb: 'engage' | 'release';
  tenant?: string;
  agent?: string;
  reason: string;
  keyId: string;
}

/**
 * Engage or release a switch, signed in the browser as `charter killswitch engage|release`
 * signs it: the target checked as the CLI checks it (switchTarget), an operator or approval key
 * to engage, an approval key to release, the evidence sealed before the file changes.
 */
export async function startSwitchChange(
  home: string,
  signing: BrowserSigning,
  viewer: Viewer,
  input: SwitchActInput,
): Promise<SigningStep<{ kind: string; id: string; action: string; by: string; evidenceId: string }>> {
  const reason = input.reason.trim();
  if (!reason) throw new InputError('a kill-switch change needs a reason', { field: 'reason' });
  if (viewer.tenant !== undefined && (input.agent || (input.tenant && input.tenant.toLowerCase() !== viewer.tenant)))
    throw new FindingError(`you are scoped to tenant ${viewer.tenant}: only its own switch`);
  const target = switchTarget(home, input, undefined, { tenant: 'tenant', agent: 'agent' });
  const actor = viewersKey(home, viewer, input.keyId, input.verb === 'engage' ? ['operator', 'approval'] : ['approval']);
  return signing.start(viewer.name, actor, async (a) => {
    const evidence = await changeKillSwitch(home, input.verb, target, a, reason);
    return { ...target, action: input.verb, by: a.name, evidenceId: evidence.id };
  });
}
