import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { exampleDecision } from '../audit/index.js';

/**
 * Trust off the writer's machine, through the built CLI: `charter audit witness` cosigns
 * (C2SP tlog-cosignature) only checkpoints consistent with what it saw, `verify` requires the
 * witnesses' quorum, and anchors are checked for consistency at any tree size.
 */

let t: TempLog;
let outside: string;
afterEach(() => {
  t?.remove();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

interface Setup {
  auditorKeys: string;
  logPub: string;
  records: string[];
  witness(n: 1 | 2, sink: string, ...extra: string[]): Promise<CliResult>;
  vkey(n: 1 | 2): Promise<string>;
  state(n: 1 | 2): string;
}

const jsonl = (lines: string[]): string => lines.join('\n') + '\n';

/** A home whose log has the first `n` of `records`, an auditor's directory outside it with the log key and two witnesses' keys and states. */
async function setup(n: number, total = n): Promise<Setup> {
  t = tempLog();
  outside = mkdtempSync(join(tmpdir(), 'charter-witness-'));
  const records = Array.from({ length: total }, (_, i) => JSON.stringify(exampleDecision(i)));
  const append = await runCli(['audit', 'append', '--key', t.keyFile, '--seal-every-records', '10'], t.home, jsonl(records.slice(0, n)));
  expect(append.code, append.stderr).toBe(0);
  const auditorKeys = join(outside, 'trusted-keys.json');
  copyFileSync(t.trustedFile, auditorKeys);
  for (const w of ['w1', 'w2']) {
    const gen = await runCli(
      ['keys', 'generate', '--name', w, '--purpose', 'witness', '--dir', join(outside, w), '--trusted-keys', join(outside, w, 'keys.json')],
      t.home,
    );
    expect(gen.code, gen.stderr).toBe(0);
  }
  const logPub = join(t.home, 'keys', 'audit.pub.pem');
  const keyArgs = (w: number) => ['--key', join(outside, `w${w}`, `w${w}.key.pem`), '--name', `witness.test/w${w}`];
  const state = (w: number) => join(outside, `w${w}`, 'state');
  return {
    auditorKeys,
    logPub,
    records,
    state,
    witness: (w, sink, ...extra) =>
      runCli(['audit', 'witness', ...keyArgs(w), '--state', state(w), '--log-key', logPub, '--sink', sink, ...extra], t.home),
    vkey: async (w) => (await runCli(['audit', 'witness', ...keyArgs(w), '--print-vkey'], t.home)).stdout.trim(),
  };
}

const verify = (args: string[], env: Record<string, string> = {}) => runCli(['audit', 'verify', ...args], t.home, undefined, env);

describe('charter audit witness and verify --witness-key', () => {
  it('verify requires the quorum of witness cosignatures; a missing or forged cosignature is a finding naming the checkpoint and witness', async () => {
    const s = await setup(30);
    const [v1, v2] = [await s.vkey(1), await s.vkey(2)];
    expect(v1).toMatch(/^witness\.test\/w1\+[0-9a-f]{8}\+/);

    // before any witness ran: the checkpoint lacks the cosignature
    const unwitnessed = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1]);
    expect(unwitnessed.code, unwitnessed.stdout + unwitnessed.stderr).toBe(1);
    expect(unwitnessed.stdout).toMatch(
      /\[witness\] checkpoint checkpoints\/000000000030\.json \(tree size 30\) has 0 valid witness cosignature\(s\), the quorum is 1: missing witness\.test\/w1/,
    );

    const w1 = await s.witness(1, t.dir, '--json');
    expect(w1.code, w1.stdout + w1.stderr).toBe(0);
    const report = JSON.parse(w1.stdout) as { treeSize: number; previous: null; cosignature: { key: string }; vkey: string };
    expect(report).toMatchObject({ treeSize: 30, previous: null, vkey: v1 });
    expect(report.cosignature.key).toMatch(/^cosignatures\/000000000030\/witness\.test_w1-\d+\.sig$/);
    // a second run adds nothing: the cosignature is there, nothing is overwritten
    const again = await s.witness(1, t.dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^ALREADY COSIGNED: charter\.local\/audit at tree size 30/);
    expect(readdirSync(join(t.dir, 'cosignatures', '000000000030'))).toHaveLength(1);

    const ok = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: /);

    // two witnesses required, one cosigned
    const both = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2, '--json']);
    expect(both.code).toBe(1);
    expect(JSON.parse(both.stdout).findings).toEqual([
      expect.objectContaining({
        kind: 'witness',
        key: 'checkpoints/000000000030.json',
        message: expect.stringMatching(/missing witness\.test\/w2$/),
      }),
    ]);
    expect((await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2, '--witness-quorum', '1'])).code).toBe(
      0,
    );
    // the witnesses can also come from the auditor's trusted keys (their `witness` entries)
    const withEntries = JSON.parse(readFileSync(s.auditorKeys, 'utf8')) as { keys: unknown[] };
    for (const w of ['w1', 'w2'])
      withEntries.keys.push(...(JSON.parse(readFileSync(join(outside, w, 'keys.json'), 'utf8')) as { keys: unknown[] }).keys);
    const entriesFile = join(outside, 'with-witnesses.json');
    writeFileSync(entriesFile, JSON.stringify(withEntries));
    const byEntries = await verify(['--trusted-keys', entriesFile]);
    expect(byEntries.code).toBe(1); // the entries are named w1 and w2, and nobody cosigned under those names
    expect(byEntries.stdout).toMatch(/missing w1, w2/);

    // w2 cosigns; then its stored cosignature is altered: a forgery by a configured witness
    expect((await s.witness(2, t.dir)).code).toBe(0);
    expect((await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2])).code).toBe(0);
    const dir = join(t.dir, 'cosignatures', '000000000030');
    const w2file = join(
      dir,
      readdirSync(dir).find((f) => f.startsWith('witness.test_w2'))!,
    );
    const [, name, blob] = /^(\u2014 \S+) (\S+)\n$/.exec(readFileSync(w2file, 'utf8'))!;
    const bytes = Buffer.from(blob!, 'base64');
    bytes[40]! ^= 1;
    writeFileSync(w2file, `${name} ${bytes.toString('base64')}\n`);
    const forged = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2, '--witness-quorum', '1']);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(
      /\[witness\] checkpoint checkpoints\/000000000030\.json \(tree size 30\): the cosignature by witness witness\.test\/w2 does not verify/,
    );
  }, 180_000);

  it('a witness refuses a forked log and a rollback (exit 1, naming both trees) and keeps its state; it follows the same history sealed at other sizes', async () => {
    const s = await setup(30, 42);
    expect((await s.witness(1, t.dir)).code).toBe(0);
    const stateFile = join(s.state(1), `${encodeURIComponent('charter.local/audit')}.checkpoint`);
    const remembered = readFileSync(stateFile, 'utf8');
    const root30 = remembered.split('\n')[2]!;

    // the log key signs another history: 40 other records in another directory
    const forkDir = join(t.home, 'forked');
    const other = Array.from({ length: 40 }, (_, i) => JSON.stringify(exampleDecision(i)));
    expect(
      (await runCli(['audit', 'append', '--dir', forkDir, '--key', t.keyFile, '--seal-every-records', '10'], t.home, jsonl(other))).code,
    ).toBe(0);
    const fork = await s.witness(1, forkDir);
    expect(fork.code, fork.stdout + fork.stderr).toBe(1);
    expect(fork.stderr).toMatch(
      new RegExp(
        `refusing to cosign: the log's newest checkpoint \\(tree size 40, root \\S+\\) is not consistent with the tree this witness cosigned last \\(tree size 30, root ${root30.replace(/[+/]/g, '\\$&')}\\): the log was forked`,
      ),
    );
    expect(readFileSync(stateFile, 'utf8')).toBe(remembered);
    expect(readdirSync(forkDir)).not.toContain('cosignatures');

    // the same 30 records and 12 more, sealed every 7: no checkpoint at 30, still consistent with it
    const resealed = join(t.home, 'resealed');
    const appendC = await runCli(
      ['audit', 'append', '--dir', resealed, '--key', t.keyFile, '--seal-every-records', '7'],
      t.home,
      jsonl(s.records),
    );
    expect(appendC.code).toBe(0);
    expect(readdirSync(join(resealed, 'checkpoints'))).not.toContain('000000000030.json');
    const follow = await s.witness(1, resealed);
    expect(follow.code, follow.stdout + follow.stderr).toBe(0);
    expect(follow.stdout).toMatch(/^COSIGNED: charter\.local\/audit at tree size 42 \(consistent with tree size 30 cosigned before\)/);

    // the newest checkpoint and its segment deleted: a rollback to 35
    rmSync(join(resealed, 'checkpoints', '000000000042.json'));
    const seg = readdirSync(join(resealed, 'segments'), { recursive: true })
      .map(String)
      .find((f) => f.endsWith('-000000000041.jsonl.gz'))!;
    rmSync(join(resealed, 'segments', seg));
    const rollback = await s.witness(1, resealed);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toMatch(
      /the log's newest checkpoint \(tree size 35, root \S+\) is smaller than the tree this witness cosigned last \(tree size 42, root \S+\): the log was truncated or rolled back/,
    );

    // the log's own key cannot be a witness
    const self = await runCli(
      ['audit', 'witness', '--key', t.keyFile, '--name', 'w', '--state', join(outside, 's'), '--log-key', s.logPub, '--sink', t.dir],
      t.home,
    );
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/the witness key is one of the log's keys/);
    // nor may its state live in the writer's home
    const inHome = await s.witness(1, t.dir, '--state', join(t.home, 'w-state'));
    expect(inHome.code).toBe(2);
    expect(inHome.stderr).toMatch(/outside the writer's home/);
  }, 180_000);
});

describe('verify --anchor at any tree size', () => {
  it('a remembered (size, root) that is no checkpoint is proven consistent with the newest checkpoint; another root is a finding', async () => {
    const s = await setup(30);
    // the root at size 25 (no checkpoint there), from the sealed records
    const records = (await runCli(['audit', 'query', '--format', 'json', '--limit', '100'], t.home)).stdout;
    const hashes = (JSON.parse(records) as Array<{ seq: number; hash: string }>).sort((a, b) => a.seq - b.seq).map((r) => r.hash);
    const root25 = rfc6962Root(hashes.slice(0, 25).map((h) => leaf(h)));
    const anchor = join(outside, 'anchor-25.txt');
    writeFileSync(anchor, `25 ${root25.toString('base64')}\n`);
    const ok = await verify(['--trusted-keys', s.auditorKeys, '--anchor', anchor]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);

    writeFileSync(anchor, `25 ${rfc6962Root(hashes.slice(1, 26).map((h) => leaf(h))).toString('base64')}\n`);
    const other = await verify(['--trusted-keys', s.auditorKeys, '--anchor', anchor]);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(
      /\[anchor\] .* is not consistent with the anchor \(tree size 25, root .*the log was forked or its history rewritten/,
    );

    writeFileSync(anchor, `31 ${root25.toString('base64')}\n`);
    const ahead = await verify(['--trusted-keys', s.auditorKeys, '--anchor', anchor]);
    expect(ahead.code).toBe(1);
    expect(ahead.stdout).toMatch(/\[anchor\] .*tree size 30.* is smaller than the anchor \(tree size 31/);
  }, 120_000);
});

/** RFC 6962 2.1: MTH, written here from the RFC, not with the production tree. */
function rfc6962Root(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.concat([Buffer.from([1]), rfc6962Root(leaves.slice(0, k)), rfc6962Root(leaves.slice(k))]));
}
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const leaf = (recordHash: string): Buffer => sha256(Buffer.concat([Buffer.from([0]), Buffer.from(recordHash.slice(7), 'hex')]));
