import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { exampleDecision } from '../audit/index.js';

let t: TempLog;
let outside: string;
afterEach(() => {
  t?.remove();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

/** A log of `n` example decisions written through the CLI, and the auditor's copy of the key outside the home. */
async function cliLog(n: number): Promise<{ auditorKeys: string }> {
  t = tempLog();
  const input = Array.from({ length: n }, (_, i) => JSON.stringify(exampleDecision(i))).join('\n') + '\n';
  const append = await runCli(['audit', 'append', '--key', t.keyFile, '--seal-every-records', '10'], t.home, input);
  expect(append.code, append.stderr).toBe(0);
  outside = mkdtempSync(join(tmpdir(), 'charter-auditor-'));
  const auditorKeys = join(outside, 'trusted-keys.json');
  copyFileSync(t.trustedFile, auditorKeys);
  return { auditorKeys };
}

describe('verify trusts only keys from outside the trail', () => {
  it('without --trusted-keys the log verifies as UNTRUSTED with exit 1, also when the pinned file is in the home', async () => {
    const { auditorKeys } = await cliLog(25);
    const bare = await runCli(['audit', 'verify'], t.home);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/^UNTRUSTED: .* 25 record\(s\)/);
    expect(bare.stdout).toMatch(/no keys from outside the trail/);

    process.env.CHARTER_AUDIT_TRUSTED_KEYS = t.trustedFile;
    try {
      const pinnedInHome = await runCli(['audit', 'verify', '--json'], t.home);
      expect(pinnedInHome.code).toBe(1);
      expect(JSON.parse(pinnedInHome.stdout)).toMatchObject({
        ok: false,
        trusted: false,
        untrusted: expect.stringMatching(/inside the writer's home/),
      });
      process.env.CHARTER_AUDIT_TRUSTED_KEYS = auditorKeys;
      const pinned = await runCli(['audit', 'verify'], t.home);
      expect(pinned.code, pinned.stdout).toBe(0);
      expect(pinned.stdout).toMatch(/^OK: /);
    } finally {
      delete process.env.CHARTER_AUDIT_TRUSTED_KEYS;
    }
  }, 120_000);

  it('a bundle verified with only its own key is UNTRUSTED (exit 1)', async () => {
    const { auditorKeys } = await cliLog(30);
    const bundleFile = join(t.home, 'bundle.json');
    expect((await runCli(['audit', 'export', '--tenant', 'acme', '--out', bundleFile], t.home)).code).toBe(0);
    const own = await runCli(['audit', 'verify', '--bundle', bundleFile], t.home);
    expect(own.code).toBe(1);
    expect(own.stdout).toMatch(/^UNTRUSTED: /);
    const trusted = await runCli(['audit', 'verify', '--bundle', bundleFile, '--trusted-keys', auditorKeys], t.home);
    expect(trusted.code, trusted.stdout).toBe(0);
  }, 120_000);

  it('a duplicated record in a bundle is a finding', async () => {
    const { auditorKeys } = await cliLog(20);
    const bundleFile = join(t.home, 'bundle.json');
    expect((await runCli(['audit', 'export', '--tenant', 'globex', '--out', bundleFile], t.home)).code).toBe(0);
    // A bundle carries each covering checkpoint with its segment's records of the tenant.
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as { checkpoints: Array<{ segment?: { records: string[] } }> };
    const part = bundle.checkpoints.find((c) => c.segment && c.segment.records.length > 0)!.segment!;
    part.records.push(part.records[0]!);
    writeFileSync(bundleFile, JSON.stringify(bundle));
    const dup = await runCli(['audit', 'verify', '--bundle', bundleFile, '--trusted-keys', auditorKeys], t.home);
    expect(dup.code).toBe(1);
    expect(dup.stdout).toMatch(/appears again/);
  }, 120_000);

  it('an empty or missing log is a finding, not OK', async () => {
    const { auditorKeys } = await cliLog(1);
    const missing = await runCli(['audit', 'verify', '--dir', join(outside, 'nonexistent'), '--trusted-keys', auditorKeys], t.home);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^FAILED: /);
    expect(missing.stdout).toMatch(/\[empty\] .* holds no checkpoint/);
  }, 120_000);
});
