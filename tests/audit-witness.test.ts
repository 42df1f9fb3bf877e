import { createHash, createPublicKey, verify as ed25519Verify, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { exampleDecision, s3ClientFor, startLocalObjectLockS3, type LocalObjectLockS3 } from '../audit/index.js';

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
        message: expect.stringMatching(/missing witness\.test\/w2, nor has any earlier checkpoint: nothing in the log is witnessed$/),
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

  it('verify checks the log up to the newest checkpoint a quorum cosigned and names the records after it; bundles carry the cosignatures and need them', async () => {
    const s = await setup(30, 35);
    const [v1, v2] = [await s.vkey(1), await s.vkey(2)];
    expect((await s.witness(1, t.dir)).code).toBe(0);
    const exportTo = async (file: string) => {
      const out = await runCli(['audit', 'export', '--tenant', 'acme', '--out', file, '--trusted-keys', s.auditorKeys], t.home);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(readFileSync(file, 'utf8')) as { checkpoints: Array<{ cosignatures: string[]; consistency: string[] }> };
    };
    const verifyBundle = (file: string, ...extra: string[]) => verify(['--bundle', file, '--trusted-keys', s.auditorKeys, ...extra]);
    const file = join(outside, 'acme.json');
    const bundle = await exportTo(file);
    const ok = await verifyBundle(file, '--witness-key', v1);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: .*witnessed by a quorum of 1 of 1 witness\(es\) up to tree size 30$/m);
    const two = await verifyBundle(file, '--witness-key', v1, '--witness-key', v2);
    expect(two.code).toBe(1);
    expect(two.stdout).toMatch(
      /no checkpoint carries valid cosignatures by a quorum of 2 of the witnesses witness\.test\/w1, witness\.test\/w2/,
    );

    // w1's cosignature in the bundle altered by one bit, then removed
    const last = bundle.checkpoints.at(-1)!;
    expect(last.cosignatures).toEqual([expect.stringMatching(/^\u2014 witness\.test\/w1 /)]);
    const [dash, name, blob] = last.cosignatures[0]!.split(' ');
    const bytes = Buffer.from(blob!, 'base64');
    bytes[40]! ^= 1;
    last.cosignatures = [`${dash} ${name} ${bytes.toString('base64')}`];
    const altered = join(outside, 'acme-forged.json');
    writeFileSync(altered, JSON.stringify(bundle));
    const forged = await verifyBundle(altered, '--witness-key', v1);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/checkpoints\[\d+\]: the cosignature by witness witness\.test\/w1 does not verify \(forged or altered\)/);
    last.cosignatures = [];
    writeFileSync(altered, JSON.stringify(bundle));
    const missing = await verifyBundle(altered, '--witness-key', v1);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/nothing in it is witnessed/);
    expect((await verifyBundle(altered)).code).toBe(0); // without a witness policy: the log key's word alone, as before
    // a consistency proof between checkpoints altered: not one history
    bundle.checkpoints.at(-1)!.consistency[0] = Buffer.alloc(32, 7).toString('base64');
    writeFileSync(altered, JSON.stringify(bundle));
    expect((await verifyBundle(altered)).stdout).toMatch(/no valid consistency proof from tree size \d+ to 30: not one history/);

    // five more records, not witnessed yet: the log verifies (exit 0) and names them; a bundle reaching them fails
    expect((await runCli(['audit', 'append', '--key', t.keyFile], t.home, jsonl(s.records.slice(30)))).code).toBe(0);
    const live = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1]);
    expect(live.code, live.stdout + live.stderr).toBe(0);
    expect(live.stdout).toMatch(/^OK: .*tree size 35, .*witnessed by a quorum of 1 of 1 witness\(es\) up to tree size 30 /);
    expect(live.stdout).toMatch(
      /NOT YET WITNESSED: records 30\.\.34 \(5\) came after the newest checkpoint the witnesses' quorum cosigned/,
    );
    const liveJson = JSON.parse((await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1, '--json'])).stdout) as object;
    expect(liveJson).toMatchObject({ ok: true, treeSize: 35, witnessed: { quorum: 1, treeSize: 30, unwitnessedRecords: 5 } });
    await exportTo(file);
    const early = await verifyBundle(file, '--witness-key', v1);
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(
      /the period's records up to tree size 35 are not all witnessed: the newest checkpoint .* cosigned is tree size 30/,
    );
    expect((await s.witness(1, t.dir)).code).toBe(0);
    await exportTo(file);
    expect((await verifyBundle(file, '--witness-key', v1)).code).toBe(0);
    const caughtUp = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1]);
    expect(caughtUp.code).toBe(0);
    expect(caughtUp.stdout).not.toMatch(/NOT YET WITNESSED/);

    // cosignatures of a tree larger than the log: a witness saw more than the log now shows
    const beyond = join(t.dir, 'cosignatures', '000000000099');
    mkdirSync(beyond, { recursive: true });
    const seen = join(t.dir, 'cosignatures', '000000000035');
    for (const f of readdirSync(seen)) copyFileSync(join(seen, f), join(beyond, f));
    const truncated = await verify(['--trusted-keys', s.auditorKeys, '--witness-key', v1]);
    expect(truncated.code).toBe(1);
    expect(truncated.stdout).toMatch(/cosignatures are stored for tree size 99, larger than the log's newest checkpoint \(tree size 35\)/);
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
    // shown to an auditor with the real log's cosignature copied in: it does not verify over the fork's checkpoint
    const real = join(t.dir, 'cosignatures', '000000000030');
    const copied = join(forkDir, 'cosignatures', '000000000040');
    mkdirSync(copied, { recursive: true });
    for (const f of readdirSync(real)) copyFileSync(join(real, f), join(copied, f));
    const split = await verify(['--dir', forkDir, '--trusted-keys', s.auditorKeys, '--witness-key', await s.vkey(1)]);
    expect(split.code).toBe(1);
    expect(split.stdout).toMatch(
      /\[witness\] checkpoint checkpoints\/000000000040\.json \(tree size 40\): the cosignature by witness witness\.test\/w1 does not verify/,
    );
    expect(split.stdout).toMatch(/has 0 valid witness cosignature\(s\), the quorum is 1: missing witness\.test\/w1/);

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

describe('proofs in the C2SP tlog-proof format', () => {
  it('prove --format tlog-proof carries the record, its audit path and the cosigned checkpoint; an implementation of the spec written here accepts it', async () => {
    const s = await setup(30);
    expect((await s.witness(1, t.dir)).code).toBe(0);
    // five more records: the newest checkpoint (35) has no cosignature yet, the proof uses the cosigned one (30)
    const more = Array.from({ length: 5 }, (_, i) => JSON.stringify(exampleDecision(30 + i)));
    expect((await runCli(['audit', 'append', '--key', t.keyFile], t.home, jsonl(more))).code).toBe(0);
    const id = (JSON.parse(s.records[17]!) as { id: string }).id;
    const file = join(outside, 'r17.tlog-proof');
    const prove = await runCli(['audit', 'prove', id, '--format', 'tlog-proof', '--out', file], t.home);
    expect(prove.code, prove.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(
      /^c2sp\.org\/tlog-proof@v1\nextra [A-Za-z0-9+/=]+\nindex 17\n([A-Za-z0-9+/]{43}=\n)+\ncharter\.local\/audit\n30\n/,
    );

    const logKey = createPublicKey(readFileSync(s.logPub, 'utf8'));
    const w1 = createPublicKey(readFileSync(join(outside, 'w1', 'w1.pub.pem'), 'utf8'));
    const checked = specVerify(text, logKey, [{ name: 'witness.test/w1', key: w1 }]);
    expect(checked).toMatchObject({ index: 17, treeSize: 30, cosignedBy: ['witness.test/w1'], recordId: id });

    const [v1, v2] = [await s.vkey(1), await s.vkey(2)];
    const ok = await runCli(['audit', 'verify-proof', file, '--trusted-keys', s.auditorKeys, '--witness-key', v1], t.home);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /^OK: record .* is leaf 17 of charter\.local\/audit at tree size 30, checkpoint signed by audit and cosigned by at least 1 of witness\.test\/w1/,
    );
    const two = await runCli(
      ['audit', 'verify-proof', file, '--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2],
      t.home,
    );
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/the quorum is 2: missing witness\.test\/w2/);

    // the record in the proof altered: both verifiers refuse
    const lines = text.split('\n');
    const extra = Buffer.from(lines[1]!.slice(6), 'base64').toString('utf8').replace('"tenantId":"', '"tenantId":"x');
    const altered = [lines[0], `extra ${Buffer.from(extra).toString('base64')}`, ...lines.slice(2)].join('\n');
    writeFileSync(file, altered);
    expect(() => specVerify(altered, logKey, [{ name: 'witness.test/w1', key: w1 }])).toThrow(/record hash/);
    const bad = await runCli(['audit', 'verify-proof', file, '--trusted-keys', s.auditorKeys], t.home);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not match its hash/);
  }, 180_000);
});

describe('witnessing a log on the S3 Object Lock sink (local radosgw)', () => {
  let s3: LocalObjectLockS3;
  beforeAll(async () => {
    s3 = await startLocalObjectLockS3(); // throws (the suite fails) when radosgw cannot start
  }, 180_000);
  afterAll(async () => {
    await s3?.stop();
  });

  it('the witness reads the log from the bucket, stores its cosignature there as a new locked object, and verify against S3 requires it', async () => {
    await s3.createLockedBucket('witnessed', 1);
    const env = {
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    const on = ['--sink', 's3://witnessed/trail', '--s3-endpoint', s3.endpoint];
    const writing = [...on, '--retention-days', '1'];
    const s = await setup(0, 25);
    const append = await runCli(
      ['audit', 'append', ...writing, '--key', t.keyFile, '--seal-every-records', '10'],
      t.home,
      jsonl(s.records),
      env,
    );
    expect(append.code, append.stderr).toBe(0);
    const witness = (w: 1 | 2) =>
      runCli(
        [
          'audit',
          'witness',
          '--key',
          join(outside, `w${w}`, `w${w}.key.pem`),
          '--name',
          `witness.test/w${w}`,
          '--state',
          s.state(w),
          '--log-key',
          s.logPub,
          ...writing,
          '--json',
        ],
        t.home,
        undefined,
        env,
      );
    const run = await witness(1);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      treeSize: 25,
      cosignature: { key: expect.stringMatching(/^cosignatures\/000000000025\//) },
    });
    // stored as its own object, locked like the segments
    const stored = (JSON.parse(run.stdout) as { cosignature: { key: string } }).cosignature.key;
    const client = s3ClientFor(s3);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'witnessed', Key: `trail/${stored}` }));
    client.destroy();
    expect(head.ObjectLockMode).toBe('COMPLIANCE');

    const [v1, v2] = [await s.vkey(1), await s.vkey(2)];
    const ok = await verify([...on, '--trusted-keys', s.auditorKeys, '--witness-key', v1], env);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const missing = await verify([...on, '--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(
      /\[witness\] checkpoint checkpoints\/000000000025\.json \(tree size 25\) has 1 valid witness cosignature\(s\), the quorum is 2: missing witness\.test\/w2/,
    );
    expect((await witness(2)).code).toBe(0);
    expect((await verify([...on, '--trusted-keys', s.auditorKeys, '--witness-key', v1, '--witness-key', v2], env)).code).toBe(0);
  }, 240_000);
});

/**
 * C2SP tlog-proof verification written from the spec texts (tlog-proof, tlog-checkpoint,
 * signed-note, tlog-cosignature, RFC 6962 2.1.1), sharing no code with the production verifier.
 * The Charter leaf: the extra line holds the record's stored line, whose body (the line without
 * its `,"hash":"sha256:<hex>"` suffix, closed again) hashes to that hex; the leaf hashes 0x00 and those 32 bytes.
 */
function specVerify(proof: string, logKey: KeyObject, witnesses: Array<{ name: string; key: KeyObject }>) {
  const lines = proof.split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('header');
  let i = 1;
  const extra = lines[i]!.startsWith('extra ') ? Buffer.from(lines[i++]!.slice(6), 'base64').toString('utf8') : undefined;
  const index = Number(/^index (0|[1-9][0-9]*)$/.exec(lines[i++]!)![1]);
  const path: Buffer[] = [];
  while (lines[i] !== '') path.push(Buffer.from(lines[i++]!, 'base64'));
  const note = lines.slice(i + 1).join('\n');
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const sigs = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => /^\u2014 (\S+) (\S+)$/.exec(l)!)
    .map((m) => ({ name: m[1]!, blob: Buffer.from(m[2]!, 'base64') }));
  const [origin, size, root] = text.split('\n');
  const raw = (k: KeyObject) => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url');
  const keyId = (name: string, type: number, k: KeyObject) =>
    sha256(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([type]), raw(k)])).subarray(0, 4);
  const logSig = sigs.find((g) => g.name === origin && g.blob.subarray(0, 4).equals(keyId(origin!, 0x01, logKey)));
  if (!logSig || !ed25519Verify(null, Buffer.from(text), logKey, logSig.blob.subarray(4))) throw new Error('log signature');
  const cosignedBy = witnesses
    .filter((w) =>
      sigs.some((g) => {
        if (g.name !== w.name || !g.blob.subarray(0, 4).equals(keyId(w.name, 0x04, w.key))) return false;
        const message = `cosignature/v1\ntime ${g.blob.readBigUInt64BE(4)}\n${text}`;
        return ed25519Verify(null, Buffer.from(message), w.key, g.blob.subarray(12));
      }),
    )
    .map((w) => w.name);
  const m = /^(.*),"hash":"sha256:([0-9a-f]{64})"\}$/.exec(extra ?? '');
  if (!m || sha256(Buffer.from(`${m[1]}}`)).toString('hex') !== m[2]) throw new Error('record hash');
  const leafHash = sha256(Buffer.concat([Buffer.from([0]), Buffer.from(m[2]!, 'hex')]));
  // RFC 6962 2.1.1: PATH(m, D[n]) recursively; the proof lists it from the leaf's sibling up
  const rootFrom = (idx: number, n: number, p: Buffer[]): Buffer => {
    if (n === 1) {
      if (p.length !== 0) throw new Error('path too long');
      return leafHash;
    }
    let k = 1;
    while (k * 2 < n) k *= 2;
    const sibling = p.at(-1);
    if (!sibling) throw new Error('path too short');
    return idx < k
      ? sha256(Buffer.concat([Buffer.from([1]), rootFrom(idx, k, p.slice(0, -1)), sibling]))
      : sha256(Buffer.concat([Buffer.from([1]), sibling, rootFrom(idx - k, n - k, p.slice(0, -1))]));
  };
  if (!rootFrom(index, Number(size), path).equals(Buffer.from(root!, 'base64'))) throw new Error('inclusion');
  return { index, treeSize: Number(size), cosignedBy, recordId: (JSON.parse(extra!) as { id: string }).id };
}

/** RFC 6962 2.1: MTH, written here from the RFC, not with the production tree. */
function rfc6962Root(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.concat([Buffer.from([1]), rfc6962Root(leaves.slice(0, k)), rfc6962Root(leaves.slice(k))]));
}
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const leaf = (recordHash: string): Buffer => sha256(Buffer.concat([Buffer.from([0]), Buffer.from(recordHash.slice(7), 'hex')]));
