import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compiledManifestAgents, contentPath, InputError } from '../common/index.js';
import { loadPacks, type AgentDeclaration } from '../policy-packs/index.js';
import { StaticConfigStore } from '../agents/index.js';
import { normaliseId } from './identity.js';
import type { EvidenceRecord } from '../audit/index.js';
import type { ApproverKey } from './approval-tokens.js';
import { ApprovalStore } from './approvals.js';
import { KillSwitchFile, type SwitchKind } from './kill-switch-file.js';

/**
 * Operator input checked before it acts: ids normalised as identity claims are (a switch on
 * `ACME` is the switch on `acme`) and checked against what exists, so a typo is an error
 * (exit 2, listing the known ids) and never a change that silently does nothing.
 */
export function knownId(kind: string, raw: string, known: readonly string[], field: string): string {
  const id = normaliseId(raw);
  if (!known.includes(id))
    throw new InputError(`unknown ${kind} '${raw}': known ${kind}s are ${known.length ? known.join(', ') : '(none)'}`, { field });
  return id;
}

/** The tenants of the home's tenant configuration (`<home>/tenants.yaml`, what the runtime serves). */
export function knownTenants(home: string): string[] {
  const file = join(home, 'tenants.yaml');
  if (!existsSync(file)) throw new InputError('no tenants.yaml in the Charter home: the known tenants cannot be checked', { file });
  return StaticConfigStore.fromFile(file).tenants().sort();
}

/** The agents the intent packs declare (default: the shipped packs), with their tools. */
export function declaredAgents(packsDir = contentPath('policy-packs', 'packs')): Map<string, AgentDeclaration> {
  const agents = new Map<string, AgentDeclaration>();
  for (const p of loadPacks(packsDir)) if (p.meta.agent) agents.set(p.meta.agent.name, p.meta.agent);
  return new Map([...agents].sort(([a], [b]) => a.localeCompare(b)));
}

/** The agents a kill switch may name: declared by the packs or compiled in the home. */
export function switchableAgents(home: string, packsDir?: string): string[] {
  return [...new Set([...declaredAgents(packsDir).keys(), ...compiledManifestAgents(home)])].sort();
}

/**
 * The switch an operator names, normalised and checked: a tenant of the home's tenants.yaml, or
 * an agent declared by the packs or compiled in the home. An unknown id is an error listing the
 * known ones, never a switch that guards nothing. `fields` name the inputs in errors.
 */
export function switchTarget(
  home: string,
  named: { tenant?: string; agent?: string },
  packsDir?: string,
  fields = { tenant: '--tenant', agent: '--agent' },
): { kind: SwitchKind; id: string } {
  if (Boolean(named.tenant) === Boolean(named.agent))
    throw new InputError(`name exactly one of ${fields.tenant} or ${fields.agent}`, { field: named.tenant ? fields.agent : fields.tenant });
  if (named.tenant) return { kind: 'tenant', id: knownId('tenant', named.tenant, knownTenants(home), fields.tenant) };
  return { kind: 'agent', id: knownId('agent', named.agent!, switchableAgents(home, packsDir), fields.agent) };
}

/**
 * Engages or releases a switch of the home as `actor`, whose signer seals the change's evidence
 * into the gateway's evidence outbox before the file changes (the audit log has one writer, the
 * gateway). Which keys may act is the caller's check (trustedActor: operator or approval to
 * engage, approval to release).
 */
export function changeKillSwitch(
  home: string,
  verb: 'engage' | 'release',
  target: { kind: SwitchKind; id: string },
  actor: ApproverKey,
  reason: string,
): Promise<EvidenceRecord> {
  const outbox = new ApprovalStore(join(home, 'approvals')).evidence;
  return KillSwitchFile.inHome(home)[verb](target.kind, target.id, actor.name, reason, { seal: (e) => outbox.put(e, actor.signer) });
}
