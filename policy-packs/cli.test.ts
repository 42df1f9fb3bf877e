import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import { GOOD_PACKS, packsWith } from './fixtures/sandbox.js';

// Bad input and signing through the built CLI: message, exit code, and nothing written.
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const GOOD = GOOD_PACKS;
let home: string;

function charter(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Compiles `agent` from `packs` into a fresh file and asserts the outcome and that nothing was written on failure. */
function compileExpecting(packs: string, agent: string, code: number, message: RegExp) {
  const out = join(home, 'out', `${agent}-${Math.random().toString(16).slice(2)}.json`);
  const r = charter('packs', 'compile', '--agent', agent, '--no-shipped', '--packs', packs, '--out', out);
  expect(r.err).toMatch(message);
  expect(r.code).toBe(code);
  if (code !== 0) expect(existsSync(out)).toBe(false);
  return { ...r, out };
}

beforeAll(() => {
  expect(existsSync(CLI), 'run `npx tsc -p tsconfig.json` first: the CLI is tested as built').toBe(true);
  home = mkdtempSync(join(tmpdir(), 'charter-home-'));
  const r = charter('keys', 'generate', '--name', 'manifest-signer');
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

// Each case starts the built CLI (a few seconds on a loaded two-core machine).
describe('bad input is named and exits 2', { timeout: 120_000 }, () => {
  it('malformed Cedar names file, line and column', () => {
    const packs = packsWith({
      'intent/reader/policies/read.cedar': (t) => t + '\n@id("reader.broken")\npermit (principal, action, resource)\nwhen { 1 + };\n',
    });
    compileExpecting(packs, 'reader', 2, /intent\/reader\/policies\/read\.cedar:6:12: malformed Cedar: unexpected token `}`/);
  });
  it('a schema error names the fragment file, line and column', () => {
    const packs = packsWith({
      'domain/shop/schema.cedarschema': (t) =>
        t.replace('entity Item in [Charter::Tenant] = { priceCents: Long };', 'entity Item in [Charter::Tenant] = { priceCents: Lung };'),
    });
    compileExpecting(packs, 'reader', 2, /domain\/shop\/schema\.cedarschema:2:\d+: invalid Cedar schema: .*Lung/);
  });
  it('unknown extends names the chain', () => {
    const packs = packsWith({ 'intent/reader/pack.yaml': (t) => t.replace('  base: ^1.0.0', '  billing: ^2.0.0') });
    compileExpecting(packs, 'reader', 2, /unknown pack 'billing' in extends \(chain: reader@1\.0\.0 -> billing \^2\.0\.0\)/);
  });
  it('an extends cycle names the chain', () => {
    const packs = packsWith({
      'domain/shop/pack.yaml': (t) => t.replace('  base: ^1.0.0', '  base: ^1.0.0\n  shipping: ^1.0.0'),
      'domain/shipping/pack.yaml': () =>
        'name: shipping\nlayer: domain\nversion: 1.0.0\nowner: t@example.com\ndescription: d\nextends:\n  shop: ^1.0.0\n',
    });
    compileExpecting(packs, 'reader', 2, /extends cycle: reader@1\.0\.0 -> shop@1\.2\.0 -> shipping@1\.0\.0 -> shop \^1\.0\.0/);
  });
  it('a version conflict names every requirer', () => {
    const packs = packsWith({ 'intent/reader/pack.yaml': (t) => t.replace('  base: ^1.0.0', '  base: ^2.0.0') });
    compileExpecting(
      packs,
      'reader',
      2,
      /version conflict for pack 'base': no version satisfies \^1\.0\.0 \(required by shop@1\.2\.0\) and \^2\.0\.0 \(required by reader@1\.0\.0\); available: 1\.0\.0/,
    );
  });
  it('a test naming an unknown entity', () => {
    const packs = packsWith({
      'intent/reader/tests/read.yaml': (t) => t.replace('args: { itemId: acme-widget, extra: ignored }', 'args: { itemId: no-such-item }'),
    });
    const r = charter('packs', 'test', '--no-shipped', '--packs', packs);
    expect(r.err).toMatch(
      /intent\/reader\/tests\/read\.yaml \(tests\["reads its tenant's item"\]\): test's arguments name unknown entity Shop::Item::"no-such-item"/,
    );
    expect(r.code).toBe(2);
  });
  it('a test naming an unknown tool (action)', () => {
    const packs = packsWith({ 'intent/reader/tests/read.yaml': (t) => t.replace('tool: buy_item', 'tool: sell_item') });
    const r = charter('packs', 'test', '--no-shipped', '--packs', packs, '--json');
    expect(JSON.parse(r.out).error.message).toMatch(/tests\["cannot buy"\]\): test names unknown tool 'sell_item'/);
    expect(r.code).toBe(2);
  });
  it('a missing signing key', () => {
    const out = join(home, 'never.json');
    const r = charter(
      'packs',
      'compile',
      '--agent',
      'reader',
      '--no-shipped',
      '--packs',
      GOOD,
      '--key',
      join(home, 'missing.pem'),
      '--out',
      out,
    );
    expect(r.err).toMatch(/missing\.pem: file not found/);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
  it('a key file that is not a private key', () => {
    const bad = join(home, 'bad.pem');
    writeFileSync(bad, 'not a key\n');
    const out = join(home, 'never.json');
    const r = charter('packs', 'compile', '--agent', 'reader', '--no-shipped', '--packs', GOOD, '--key', bad, '--out', out);
    expect(r.err).toMatch(/bad\.pem: not a PEM private key/);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
  it('--all writes nothing when one agent fails', () => {
    const packs = packsWith({
      'intent/reader/policies/read.cedar': (t) => t + '\n@id("reader.x") permit (principal, action, resource) when { context.nope };\n',
    });
    const outDir = join(home, 'all-out');
    const r = charter('packs', 'compile', '--all', '--no-shipped', '--packs', packs, '--out-dir', outDir);
    expect(r.code).toBe(1);
    expect(existsSync(join(outDir, 'buyer.manifest.json'))).toBe(false);
  });
});

describe('composition rule violations are findings (exit 1) naming pack, file and policy', { timeout: 120_000 }, () => {
  it('duplicate policy ids name both places', () => {
    const packs = packsWith({
      'intent/reader/policies/more.cedar': () => '@id("reader.read-items")\npermit (principal, action, resource);\n',
    });
    compileExpecting(
      packs,
      'reader',
      1,
      /intent\/reader\/policies\/read\.cedar:1: duplicate policy id 'reader\.read-items' in pack reader: also in pack reader at intent\/reader\/policies\/more\.cedar:1/,
    );
  });
  it('an intent pack permitting a cross-tenant read is rejected naming the base test it breaks', () => {
    // Base guards reads by default deny only here, so the regression corpus is what catches the leak.
    const packs = packsWith({
      'base/policies/isolation.cedar': () =>
        '@id("base.tenant-isolation")\nforbid (principal, action in [Charter::Action::"tier:write-low", Charter::Action::"tier:write-high", Charter::Action::"tier:critical"], resource)\nunless { resource in context.tenant };\n',
      'base/tests/isolation.yaml': () =>
        'tests:\n  - name: cross-tenant read is denied\n    tenant: acme\n    tool: { tier: read }\n    resource: { tenant: globex }\n    expect: deny\n    determining: []\n',
    });
    compileExpecting(
      packs,
      'reader',
      1,
      /agent reader breaks 2 base\/domain test\(s\): base\/tests\/isolation\.yaml: test "cross-tenant read is denied" expects deny, agent reader allows get_item \(by reader\.read-items\)/,
    );
    expect(charter('packs', 'test', '--no-shipped', '--packs', packs).code).toBe(1);
  });
});

describe('signed manifests', { timeout: 120_000 }, () => {
  it('compile is deterministic: twice, byte-identical', () => {
    const a = compileExpecting(GOOD, 'buyer', 0, /^$/);
    const b = compileExpecting(GOOD, 'buyer', 0, /^$/);
    expect(readFileSync(a.out)).toEqual(readFileSync(b.out));
  });

  it('verify accepts the manifest and rejects any one-byte change with exit 1', () => {
    const { out } = compileExpecting(GOOD, 'buyer', 0, /^$/);
    const trusted = join(home, 'keys', 'trusted-keys.json');
    expect(charter('manifest', 'verify', out, '--trusted-keys', trusted, '--no-shipped', '--packs', GOOD).code).toBe(0);
    const original = readFileSync(out);
    const env = JSON.parse(original.toString('utf8')) as { payload: string };
    const payloadAt = original.indexOf(env.payload);
    // One byte in the payload, one in the signature, one in the JSON framing.
    for (const at of [payloadAt + 40, payloadAt + env.payload.length + 30, 3]) {
      const bytes = Buffer.from(original);
      bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
      const tampered = join(home, `tampered-${at}.json`);
      writeFileSync(tampered, bytes);
      const r = charter('manifest', 'verify', tampered, '--trusted-keys', trusted);
      expect(r.code, `byte ${at}`).toBe(1);
      expect(r.err).toMatch(/tampered-\d+\.json/);
    }
  });

  it('a re-signed manifest whose policy text no longer matches its digest names the policy', async () => {
    const { out } = compileExpecting(GOOD, 'buyer', 0, /^$/);
    const env = JSON.parse(readFileSync(out, 'utf8')) as { payload: string };
    const manifest = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    manifest.policies['buyer.buy'].text += ' ';
    const { canonicalJson, loadSigner, signEnvelope } = await import('../signing/index.js');
    const signer = await loadSigner(join(home, 'keys', 'manifest-signer.key.pem'));
    const forged = await signEnvelope('application/vnd.charter.manifest+json', Buffer.from(canonicalJson(manifest)), [signer]);
    const file = join(home, 'forged.json');
    writeFileSync(file, JSON.stringify(forged));
    const r = charter('manifest', 'verify', file, '--trusted-keys', join(home, 'keys', 'trusted-keys.json'), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).error.message).toMatch(/policies\["buyer\.buy"\]\.sha256 does not match its text/);
  });

  it('verify with --packs names a pack file changed on disk', () => {
    const packs = packsWith({});
    const { out } = compileExpecting(packs, 'reader', 0, /^$/);
    writeFileSync(
      join(packs, 'intent/reader/policies/read.cedar'),
      readFileSync(join(packs, 'intent/reader/policies/read.cedar'), 'utf8') + '// edited\n',
    );
    const r = charter(
      'manifest',
      'verify',
      out,
      '--trusted-keys',
      join(home, 'keys', 'trusted-keys.json'),
      '--no-shipped',
      '--packs',
      packs,
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/intent\/reader\/policies\/read\.cedar: sha256 differs from the file/);
  });

  it('a manifest signed by an untrusted key fails with exit 1', () => {
    const { out } = compileExpecting(GOOD, 'reader', 0, /^$/);
    const other = join(home, 'other-keys');
    expect(charter('keys', 'generate', '--name', 'someone', '--dir', other).code).toBe(0);
    const r = charter('manifest', 'verify', out, '--trusted-keys', join(other, 'trusted-keys.json'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/signature by unknown key/);
  });

  it('--previous sets baseChanged and previousManifestDigest', () => {
    const first = compileExpecting(GOOD, 'reader', 0, /^$/);
    const packs = packsWith({ 'base/policies/approvals.cedar': (t) => t + '\n// clarified\n' });
    const r = charter(
      'packs',
      'compile',
      '--agent',
      'reader',
      '--no-shipped',
      '--packs',
      packs,
      '--previous',
      first.out,
      '--out',
      join(home, 'second.json'),
      '--json',
    );
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out).manifests[0];
    expect(m.baseChanged).toBe(true);
    const same = charter(
      'packs',
      'compile',
      '--agent',
      'reader',
      '--no-shipped',
      '--packs',
      GOOD,
      '--previous',
      first.out,
      '--out',
      join(home, 'third.json'),
      '--json',
    );
    expect(JSON.parse(same.out).manifests[0].baseChanged).toBe(false);
  });

  it('diff lists changed policies, tools and the corpus requests whose decision changes', () => {
    const packs = packsWith({
      'intent/reader/policies/read.cedar': () =>
        '@id("reader.read-items")\npermit (principal == Charter::Agent::"reader", action == Shop::Action::"get_item", resource)\nwhen { context.input has itemId && context.input.itemId != "acme-widget" };\n',
      'intent/reader/tests/read.yaml': (t) =>
        t.replace('expect: allow\n    determining: [reader.read-items]', 'expect: deny\n    determining: []'),
    });
    const r = charter('packs', 'diff', GOOD, packs, '--agent', 'reader', '--no-shipped', '--json');
    expect(r.code).toBe(0);
    const diff = JSON.parse(r.out);
    expect(diff.policies.changed).toEqual(['reader.read-items']);
    expect(diff.decisions.map((d: { key: string }) => d.key)).toContain("intent/reader/tests/read.yaml#reads its tenant's item[get_item]");
    const change = diff.decisions.find((d: { key: string }) => d.key.includes("reads its tenant's item"));
    expect(change.old.decision).toBe('allow');
    expect(change.new.decision).toBe('deny');
    expect(change.decisionChanged).toBe(true);
  });

  it('packs test reports coverage and fails below the minimum', () => {
    const packs = packsWith({
      'intent/reader/policies/more.cedar': () =>
        '@id("reader.never")\npermit (principal == Charter::Agent::"reader", action == Shop::Action::"get_item", resource) when { context.input has itemId && context.input.itemId == "zzz" };\n',
    });
    const r = charter('packs', 'test', '--no-shipped', '--packs', packs, '--min-coverage', '100', '--json');
    const report = JSON.parse(r.out);
    expect(report.policies.find((p: { id: string }) => p.id === 'reader.never').hits).toBe(0);
    expect(report.packs.find((p: { pack: string }) => p.pack === 'reader@1.0.0').percent).toBe(50);
    expect(r.code).toBe(1);
    expect(charter('packs', 'test', '--no-shipped', '--packs', GOOD, '--min-coverage', '100').code).toBe(0);
  });
});
