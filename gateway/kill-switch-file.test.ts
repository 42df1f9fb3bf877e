import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { DecisionData } from './decide.js';
import { KillSwitchFile, withKillSwitches } from './kill-switch-file.js';
import { unknownKillSwitches } from './kill-switches.js';

const data: DecisionData = {
  limits: () => ({}),
  resolve: (uid) =>
    uid.type === 'Charter::Tenant' || uid.type === 'Charter::Agent'
      ? [{ uid, attrs: { suspended: uid.id === 'umbrella' }, parents: [] }]
      : undefined,
};
const suspended = (d: DecisionData, type: string, id: string) => d.resolve({ type, id })![0]!.attrs.suspended;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('withKillSwitches', () => {
  test('an engaged switch suspends, a released one leaves the entity its own state, an unreadable file makes the state unknown', async () => {
    dir = mkdtempSync(join(tmpdir(), 'charter-ks-'));
    const switches = KillSwitchFile.inHome(dir);
    const d = withKillSwitches(data, switches);
    expect([suspended(d, 'Charter::Tenant', 'acme'), suspended(d, 'Charter::Tenant', 'umbrella')]).toEqual([false, true]);
    await switches.engage('tenant', 'acme', 'ann', 'incident');
    await switches.engage('agent', 'spot-bidding', 'ann', 'incident');
    expect([
      suspended(d, 'Charter::Tenant', 'acme'),
      suspended(d, 'Charter::Agent', 'spot-bidding'),
      suspended(d, 'Charter::Agent', 'other'),
    ]).toEqual([true, true, false]);
    await switches.release('tenant', 'acme', 'ann', 'resolved');
    expect(suspended(d, 'Charter::Tenant', 'acme')).toBe(false);

    writeFileSync(switches.file, 'agents: [\n');
    expect(suspended(d, 'Charter::Tenant', 'acme')).toBeUndefined();
    expect(unknownKillSwitches(d, 'acme', 'spot-bidding')).toEqual([
      "kill switch state of tenant 'acme' is unknown (Charter::Tenant::\"acme\" has no boolean 'suspended' attribute): denied (fail closed)",
      "kill switch state of agent 'spot-bidding' is unknown (Charter::Agent::\"spot-bidding\" has no boolean 'suspended' attribute): denied (fail closed)",
    ]);
  });
});
