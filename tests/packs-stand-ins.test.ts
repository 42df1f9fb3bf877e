import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';
import { packsWith } from '../policy-packs/fixtures/sandbox.js';
import { compileManifest, runPackTests, Workspace, type CaseResult } from '../policy-packs/index.js';

// Regression runs put each base test's stand-in tool (Fixture::...) on the agent's real tools.
// The mapping must keep what the base test is about, so that "expected deny stays deny" holds for
// the base rule itself and not by accident of a fixture or a missing argument.

/** A copy of the shipped packs with `edit` applied to one file. */
function shippedWith(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'charter-shipped-'));
  cpSync(contentPath('policy-packs', 'packs'), dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

const baseRegression = (cases: CaseResult[], file: string, test?: string) =>
  cases.filter((c) => c.run === 'regression' && c.file === file && (test === undefined || c.test === test));

// Base fixture additions: a configuration-write stand-in, the rule, and one test of it.
const CONFIG_STAND_IN = `
  action update_config in [Charter::Action::"tier:critical", Charter::Action::"category:config-write"]
    appliesTo { principal: Charter::Agent, resource: Charter::Tenant, context: Context };
}
`;
const NO_CONFIG_WRITES =
  '@id("base.no-config-writes")\nforbid (principal, action in Charter::Action::"category:config-write", resource);\n';
const CONFIG_TEST = `tests:
  - { name: config write with two approvers, tenant: acme, tool: update_config, approvers: [alice, bob], expect: deny, determining: [base.no-config-writes] }
`;
const withConfigRule = {
  // The selector would now also pick the new critical stand-in in the base run.
  'base/tests/isolation.yaml': (t: string) => t.replace('tool: { tier: critical }', 'tool: critical_record'),
  'base/tests/fixture.cedarschema': (t: string) => t.replace(/}\s*$/, CONFIG_STAND_IN),
  'base/policies/config.cedar': () => NO_CONFIG_WRITES,
  'base/tests/config.yaml': () => CONFIG_TEST,
};

describe('regression stand-ins', { timeout: 240_000 }, () => {
  it('a config-write stand-in is not put on a critical tool that is no config write (the agent permits that one)', () => {
    // buyer holds close_shop (critical, permitted for buyer): a tier-only mapping runs the config
    // test on it with two approvers and the agent's permit allows it.
    const ws = new Workspace(packsWith(withConfigRule));
    const report = runPackTests(ws);
    expect(report.failures.map((f) => `${f.set} ${f.key}: ${f.decision}`)).toEqual([]);
    expect(baseRegression(report.cases, 'base/tests/config.yaml')).toEqual([]);
    expect(compileManifest(ws, 'buyer').manifest.agent.name).toBe('buyer');
  });

  it("a config-write stand-in is put on every tool of the agent's in the same Charter groups", () => {
    const ws = new Workspace(
      packsWith({
        ...withConfigRule,
        'domain/shop/schema.cedarschema': (t) =>
          t.replace(
            /}\s*$/,
            '  action set_shop_config in [Charter::Action::"tier:critical", Charter::Action::"category:config-write"] appliesTo { principal: Charter::Agent, resource: Charter::Tenant, context: Context };\n}\n',
          ),
        'domain/shop/tools.yaml': (t) =>
          t +
          '  - { name: set_shop_config, tier: critical, description: Change the shop settings., resource: { tenant: true }, args: { type: object } }\n',
        'intent/buyer/pack.yaml': (t) =>
          t.replace(
            '    - { name: close_shop, tier: critical }',
            '    - { name: close_shop, tier: critical }\n    - { name: set_shop_config, tier: critical }',
          ),
        'intent/buyer/policies/configure.cedar': () =>
          '@id("buyer.configure")\npermit (principal == Charter::Agent::"buyer", action == Shop::Action::"set_shop_config", resource);\n',
      }),
    );
    const report = runPackTests(ws);
    expect(report.failures).toEqual([]);
    const cases = baseRegression(report.cases, 'base/tests/config.yaml');
    expect(cases.map((c) => [c.set, c.tool, c.decision, c.determining])).toEqual([
      ['buyer', 'set_shop_config', 'deny', ['base.no-config-writes']],
    ]);
  });

  it('a stand-in resource named in the arguments becomes an entity of its tenant, not a missing argument', () => {
    const ws = new Workspace(
      packsWith({
        'base/tests/args.yaml': () =>
          'tests:\n  - { name: write-high on an argument-named record, tenant: acme, tool: write_high_record, args: { resourceId: acme-rec }, expect: deny, determining: [base.write-high-needs-approval] }\n',
      }),
    );
    const report = runPackTests(ws);
    expect(report.failures).toEqual([]);
    const cases = baseRegression(report.cases, 'base/tests/args.yaml');
    expect(cases.map((c) => [c.set, c.tool, c.decision, c.determining, c.errors])).toEqual([
      ['buyer', 'buy_item', 'deny', ['base.write-high-needs-approval'], []],
    ]);
  });

  it('shipped packs: the base config-write tests stay denied when the first supplier of a tenant is blocked', () => {
    // The example: mapped by tier alone, "config write on the own tenant selected" ran on
    // compliance-review's terminate_supplier_contract and stayed denied only because initech's
    // first fixture supplier was not blocked. A blocked supplier sorting first must change nothing.
    const blocked =
      '  - { uid: \'Procurement::Supplier::"initech-sup-0-blocked"\', parents: [\'Charter::Tenant::"initech"\'], attrs: { name: Blocked Parts, approved: true, blocked: true, deliveryRegions: [US] } }\n';
    const dir = shippedWith('domain/procurement/tests/fixtures.yaml', (t) =>
      t.replace(/^(\s*- \{ uid: 'Procurement::Supplier::"initech-sup-1"'.*\n)/m, `$1${blocked}`),
    );
    const ws = new Workspace(dir);
    const report = runPackTests(ws);
    expect(report.failures.map((f) => `${f.set} ${f.key}: ${f.decision} by [${f.determining.join(', ')}]`)).toEqual([]);
    expect(compileManifest(ws, 'compliance-review').manifest.agent.name).toBe('compliance-review');
  });

  it('shipped packs: every base regression case is denied by at least the policies the base test names', () => {
    // What makes a stand-in sound: base policies see only an action's Charter groups and the
    // resource's tenant, both kept by the mapping, so the base test's determining policies still
    // determine the decision on the agent's real tool.
    const report = runPackTests(new Workspace(contentPath('policy-packs', 'packs')));
    const cases = report.cases.filter((c) => c.run === 'regression' && c.pack.startsWith('base@'));
    expect(cases.length).toBeGreaterThan(300);
    const weaker = cases.filter((c) => c.decision !== 'deny' || !c.expectedDetermining.every((id) => c.determining.includes(id)));
    expect(weaker.map((c) => `${c.set} ${c.key}: ${c.decision} by [${c.determining.join(', ')}]`)).toEqual([]);
  });
});
