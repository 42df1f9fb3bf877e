import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import { packsWith } from '../policy-packs/fixtures/sandbox.js';
import { compileManifest, PolicyEngine, Workspace } from '../policy-packs/index.js';

// A message about a policy names the file and line its author wrote, once, and the @id; never the
// ids Cedar was handed internally (`p7` of a validation batch, `policy0` of an unnamed set).
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const INTERNAL_ID = /\b(?:p|policy)\d+\b/;
const READ = 'intent/reader/policies/read.cedar';
let home: string;

function charter(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const errorOf = (out: string) => (JSON.parse(out) as { error: { message: string; details: string[] } }).error;
const occurrences = (text: string, what: string) => text.split(what).length - 1;

// Appended to the fixture's read.cedar (2 lines): the policy starts at line 4.
const withPolicy = (policy: string) => packsWith({ [READ]: (t) => `${t}\n${policy}` });

beforeAll(() => {
  expect(existsSync(CLI), 'run `npm run build` first: the CLI is tested as built').toBe(true);
  home = mkdtempSync(join(tmpdir(), 'charter-home-'));
  expect(charter('keys', 'generate', '--name', 'manifest-signer').code).toBe(0);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('policy messages name the author file and line, not internal ids', { timeout: 120_000 }, () => {
  it('a strict validation error (packs validate and compile --json)', () => {
    const packs = withPolicy('@id("reader.typo")\npermit (principal, action, resource)\nwhen { context.nope };\n');
    for (const args of [
      ['packs', 'validate'],
      ['packs', 'compile', '--agent', 'reader', '--out', join(home, 'never.json')],
    ]) {
      const r = charter(...args, '--no-shipped', '--packs', packs, '--json');
      expect(r.code, r.out).toBe(1);
      const error = errorOf(r.out);
      for (const line of [error.message, ...error.details]) {
        expect(line).toMatch(/policy reader\.typo \(pack reader, intent\/reader\/policies\/read\.cedar:6:8\): attribute `nope`/);
        expect(line).not.toMatch(INTERNAL_ID);
        expect(occurrences(line, 'read.cedar')).toBe(1);
      }
    }
    expect(existsSync(join(home, 'never.json'))).toBe(false);
  });

  it('a policy without @id (packs validate)', () => {
    const packs = withPolicy('permit (principal, action, resource)\nwhen { context.nope };\n');
    const r = charter('packs', 'validate', '--no-shipped', '--packs', packs, '--json');
    expect(r.code).toBe(2);
    const { message } = errorOf(r.out);
    expect(message).toMatch(/^intent\/reader\/policies\/read\.cedar:4: policy has no @id/);
    expect(message).not.toMatch(INTERNAL_ID);
  });

  // Passes strict validation; 500 * i64::MAX overflows when the policy is evaluated.
  const OVERFLOW =
    '@id("reader.overflow")\nforbid (principal, action == Shop::Action::"get_item", resource)\nwhen { resource.priceCents * 9223372036854775807 > 0 };\n';

  it('an evaluation error in a decision (packs test, human and --json)', () => {
    const packs = withPolicy(OVERFLOW);
    const json = charter('packs', 'test', '--no-shipped', '--packs', packs, '--filter', 'reader', '--json');
    expect(json.code, json.out).toBe(1);
    const failures = (JSON.parse(json.out) as { failures: Array<{ errors: string[] }> }).failures;
    const errors = failures.flatMap((f) => f.errors);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e).toMatch(/^policy reader\.overflow \(pack reader, intent\/reader\/policies\/read\.cedar:6:8\): integer overflow/);
      expect(e).not.toMatch(INTERNAL_ID);
    }
    const human = charter('packs', 'test', '--no-shipped', '--packs', packs, '--filter', 'reader');
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/FAIL .* errors: policy reader\.overflow \(pack reader, intent\/reader\/policies\/read\.cedar:6:8\)/);
    expect(human.out + human.err).not.toMatch(INTERNAL_ID);
  });

  it('an evaluation error at runtime, from a compiled manifest, names the pack and file it came from', () => {
    const ws = new Workspace(withPolicy(OVERFLOW));
    const { manifest, digest } = compileManifest(ws, 'reader');
    const engine = PolicyEngine.fromManifest(manifest, `messages:${digest}`);
    const item = {
      uid: { type: 'Shop::Item', id: 'acme-widget' },
      attrs: { priceCents: 500 },
      parents: [{ type: 'Charter::Tenant', id: 'acme' }],
    };
    const d = engine.authorizeCall(
      { agent: 'reader', tenant: 'acme', tool: 'get_item', args: { itemId: 'acme-widget' }, approvers: [], limits: {} },
      { resolve: (uid) => (uid.id === 'acme-widget' ? [item] : undefined) },
    );
    expect(d.decision).toBe('deny');
    expect(d.errors).toEqual([
      expect.stringMatching(/^policy reader\.overflow \(pack reader, intent\/reader\/policies\/read\.cedar\): integer overflow/),
    ]);
  });
});
