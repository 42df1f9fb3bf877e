import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { charterHome, contentPath, InputError } from '../../common/index.js';
import { loadPrivateKey, loadTrustedKeys, type KeyPurpose } from '../../signing/index.js';
import { loadPacks, type AgentDeclaration } from '../../policy-packs/index.js';
import { StaticConfigStore } from '../../agents/index.js';
import { approverKey, normaliseId, type ApproverKey } from '../../gateway/index.js';

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

/**
 * An approver from a private key: the name is the key's entry in the trusted-keys file (purpose
 * `approval`, or one of `purposes`). `--as`, when given, is only a cross-check and must be that name.
 */
export function approverFromKey(
  keyFile: string,
  opts: { trustedKeys?: string; as?: string; home?: string },
  purposes: KeyPurpose[] = ['approval'],
): ApproverKey {
  const trustedFile = opts.trustedKeys ?? join(opts.home ?? charterHome(), 'keys', 'trusted-keys.json');
  const approver = approverKey(loadPrivateKey(keyFile), loadTrustedKeys(trustedFile), purposes);
  if (opts.as !== undefined && opts.as !== approver.name)
    throw new InputError(`--as '${opts.as}' but the key is '${approver.name}' in ${trustedFile}: the signer is the key's name`, {
      field: '--as',
    });
  return approver;
}
