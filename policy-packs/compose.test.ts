import { describe, expect, it } from 'vitest';
import { CharterError } from '../common/index.js';
import { GOOD_PACKS, packsWith } from './fixtures/sandbox.js';
import { compileManifest, runPackTests, Workspace } from './index.js';

// Composition rules and input checks in-process (the CLI maps the same errors to exit codes;
// cli.test.ts covers the bad-input list through the built CLI).
function expectFailure(fn: () => unknown, exitCode: number, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CharterError);
  expect((caught as CharterError).message).toMatch(message);
  expect((caught as CharterError).exitCode).toBe(exitCode);
}

describe('composition and input checks', () => {
  it('a policy without @id names file and line', () => {
    const packs = packsWith({ 'intent/reader/policies/read.cedar': (t) => t + '\npermit (principal, action, resource);\n' });
    expectFailure(() => compileManifest(new Workspace(packs), 'reader'), 2, /intent\/reader\/policies\/read\.cedar:4: policy has no @id/);
  });
  it('an invalid pack.yaml field names file, line and field', () => {
    const packs = packsWith({ 'intent/reader/pack.yaml': (t) => t.replace('modelTier: SimpleLLM', 'modelTier: HugeLLM') });
    expectFailure(() => compileManifest(new Workspace(packs), 'reader'), 2, /intent\/reader\/pack\.yaml:\d+ \(agent\.modelTier\)/);
  });
  it('a test naming an unknown entity type', () => {
    const packs = packsWith({
      'domain/shop/tests/orders.yaml': (t) => t.replace('tool: get_item\n', 'tool: get_item\n    resource: \'Shop::Gadget::"x"\'\n'),
    });
    expectFailure(() => runPackTests(new Workspace(packs)), 2, /test names entity type Shop::Gadget, which the schema does not declare/);
  });
  it('an unknown agent lists the agents', () => {
    expectFailure(() => compileManifest(new Workspace(GOOD_PACKS), 'nobody'), 2, /unknown agent 'nobody' \(agents in .*: buyer, reader\)/);
  });
  it('reusing a base policy id has its own message', () => {
    const packs = packsWith({
      'intent/reader/policies/more.cedar': () => '@id("base.tenant-isolation")\npermit (principal, action, resource);\n',
    });
    expectFailure(
      () => compileManifest(new Workspace(packs), 'reader'),
      1,
      /pack reader reuses base policy id 'base\.tenant-isolation' \(defined by pack base at base\/policies\/isolation\.cedar:2\); base can only be extended, never overridden/,
    );
  });
  it('policy ids must start with the pack name', () => {
    const packs = packsWith({ 'intent/reader/policies/more.cedar': () => '@id("shop.sneaky")\npermit (principal, action, resource);\n' });
    expectFailure(() => compileManifest(new Workspace(packs), 'reader'), 1, /policy id 'shop\.sneaky' must start with 'reader\.'/);
  });
  it('a lower layer may not declare a namespace base owns', () => {
    const packs = packsWith({ 'domain/shop/schema.cedarschema': (t) => t + '\nnamespace Charter { entity Override; }\n' });
    expectFailure(
      () => compileManifest(new Workspace(packs), 'reader'),
      1,
      /domain\/shop\/schema\.cedarschema: pack shop declares namespace Charter, which pack base owns \(a domain pack may not change or remove base schema types\)/,
    );
  });
  it('strict validation errors name policy id, pack, file, line and column', () => {
    const packs = packsWith({
      'intent/reader/policies/read.cedar': (t) =>
        t +
        '\n@id("reader.typo")\npermit (principal, action == Shop::Action::"get_item", resource)\nwhen { context.input.itemid == "x" };\n',
    });
    expectFailure(
      () => compileManifest(new Workspace(packs), 'reader'),
      1,
      /strict validation failed: policy reader\.typo \(pack reader, intent\/reader\/policies\/read\.cedar:6:8\):/,
    );
  });
  it("one agent's strict-validation error does not fail another agent's set (policies are validated together per schema)", () => {
    const packs = packsWith({
      'intent/reader/policies/read.cedar': (t) =>
        t +
        '\n@id("reader.typo")\npermit (principal, action == Shop::Action::"get_item", resource)\nwhen { context.input.itemid == "x" };\n',
    });
    const ws = new Workspace(packs);
    expectFailure(() => compileManifest(ws, 'reader'), 1, /strict validation failed: policy reader\.typo/);
    expect(compileManifest(ws, 'buyer').manifest.agent.name).toBe('buyer');
    expectFailure(
      () => compileManifest(ws, 'reader'),
      1,
      /strict validation failed: policy reader\.typo \(pack reader, intent\/reader\/policies\/read\.cedar:6:8\)/,
    );
  });
  it('a tool whose tier differs from its action tier group', () => {
    const packs = packsWith({ 'domain/shop/tools.yaml': (t) => t.replace('    tier: read\n', '    tier: write-low\n') });
    expectFailure(
      () => compileManifest(new Workspace(packs), 'reader'),
      1,
      /tool get_item has tier write-low but its action is a member of Charter::Action::"tier:read"/,
    );
  });
  it('an intent tool may raise its tier (the manifest carries it), never lower it', () => {
    const raised = packsWith({
      'intent/reader/pack.yaml': (t) => t.replace('{ name: get_item, tier: read }', '{ name: get_item, tier: write-low }'),
    });
    expect(compileManifest(new Workspace(raised), 'reader').manifest.tools).toMatchObject([{ name: 'get_item', tier: 'write-low' }]);
    const lowered = packsWith({
      'intent/buyer/pack.yaml': (t) => t.replace('{ name: buy_item, tier: write-high }', '{ name: buy_item, tier: write-low }'),
    });
    expectFailure(
      () => compileManifest(new Workspace(lowered), 'buyer'),
      1,
      /intent pack buyer: tool buy_item declared with tier write-low, below tier write-high set by its owner, pack shop/,
    );
  });
  it('the good fixture composes every set', () => {
    const sets = new Workspace(GOOD_PACKS).composeAll();
    expect(sets.map((s) => [s.root.key, s.set.tools.map((t) => t.name)])).toEqual([
      ['base@1.0.0', ['critical_record', 'read_record', 'write_high_record']],
      ['shop@1.2.0', ['buy_item', 'close_shop', 'get_item']],
      ['buyer@1.0.0', ['buy_item', 'close_shop']],
      ['reader@1.0.0', ['get_item']],
    ]);
  });
});
