import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { INVOCATION_ENVELOPE } from '../../agents/index.js';
import { charterHome, DEFAULT_HOME_CONFIG, homeConfigFile, writeFileAtomic } from '../../common/index.js';
import { addTrustedKeys, generateEd25519Key, type KeyPurpose } from '../../signing/index.js';
import { printJson, printLine, verbose } from '../output.js';
import { action, withJson } from '../program.js';

/** The platform's signing keys: what each signs. Approvers are people: each generates their own (`charter keys generate`). */
const HOME_KEYS: Array<[name: string, purpose: KeyPurpose]> = [
  ['manifest-signer', 'manifest'],
  ['audit', 'audit-checkpoint'],
  ['eval-report', 'eval-report'],
  ['release-signer', 'release-record'],
  // Signs every orchestrator -> agent invocation envelope (agents verify it before acting).
  [INVOCATION_ENVELOPE.sender, 'agent-envelope'],
];

/** A starting tenants.yaml: the reference's three tenants with their spend thresholds (edit to taste). */
const STARTER_TENANTS = `# Tenant configuration (per-tenant override -> profile -> defaults); see agents/README.md.
defaults:
  admission: { reservedSlots: 2, maxSlots: 10, retryAfterSeconds: 5 }
tenants:
  acme:
    config: { limits: { spendThresholdCents: 5000000 } }
  globex:
    config: { limits: { spendThresholdCents: 5000000, maxSpotBidCents: 100000 } }
  initech:
    config: { limits: { spendThresholdCents: 150000 } }
`;

/**
 * A starting approvers.yaml: nobody, so every approval is refused until people are named here
 * (each needs a key trusted for approval under the same name).
 */
const STARTER_APPROVERS = `# Who may approve what, at charter approvals approve and again at the gateway for every approval
# token it counts. Each approver is the name of a key trusted for approval (charter keys generate
# --name NAME --purpose approval). The packs' approval policies decide what each may approve:
# base, only for the tenants listed; procurement, buyers up to spendLimitCents (cents), finance
# for critical calls. Nobody listed: every approval is refused.
approvers: {}
#  alice:
#    tenants: [acme, initech]
#    spendLimitCents: 5000000   # 50,000.00
#    roles: [buyer]
`;

interface Created {
  path: string;
  what: string;
  created: boolean;
}

/** Creates what is missing and keeps what is there: running init twice changes nothing. */
function initHome(home: string): Created[] {
  const out: Created[] = [];
  const keysDir = join(home, 'keys');
  const trusted = join(keysDir, 'trusted-keys.json');
  for (const [name, purpose] of HOME_KEYS) {
    const file = join(keysDir, `${name}.key.pem`);
    const exists = existsSync(file);
    if (!exists) addTrustedKeys(trusted, [generateEd25519Key(keysDir, name, [purpose]).trusted]);
    out.push({ path: file, what: `${purpose} signing key (public half in trusted-keys.json)`, created: !exists });
  }
  for (const [file, text, what] of [
    [join(home, 'tenants.yaml'), STARTER_TENANTS, 'tenants: acme, globex, initech'],
    [join(home, 'approvers.yaml'), STARTER_APPROVERS, 'approvers: nobody yet (every approval is refused until you name people)'],
    [homeConfigFile(home), DEFAULT_HOME_CONFIG, 'home configuration: the egress allow-list'],
  ] as const) {
    const exists = existsSync(file);
    if (!exists) writeFileAtomic(file, text);
    out.push({ path: file, what, created: !exists });
  }
  const logs = join(home, 'logs');
  const exists = existsSync(logs);
  mkdirSync(logs, { recursive: true });
  out.push({ path: logs, what: 'logs: demo runs, refused connections (egress-refused.jsonl)', created: !exists });
  return out;
}

export function registerInit(program: Command): void {
  withJson(program.command('init')).action(
    action((opts: { json?: boolean }) => {
      const home = charterHome();
      verbose(`initialising ${home}`);
      const items = initHome(home);
      if (opts.json) {
        printJson({ ok: true, home, items });
        return;
      }
      printLine(`Charter home ${home}`);
      for (const i of items) printLine(`  ${i.created ? 'created' : 'kept   '} ${i.path}  (${i.what})`);
      printLine(`\nNext: charter packs test, then charter packs compile --all (signed manifests into ${join(home, 'manifests')}).`);
    }),
  );
}
