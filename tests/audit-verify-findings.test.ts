import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { chainRecord } from '../audit/chain.js';
import { runCli, spawnCli, type CliResult } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { exampleDecision } from '../audit/index.js';
import { segmentDigest } from '../audit/segment.js';

// Each attack is made on the files an attacker with write access to the local sink can reach,
// and checked through the built CLI: the finding must name the record or field that was touched.

let t: TempLog;
afterEach(() => t?.remove());

type Sealed = ReturnType<typeof exampleDecision> & { seq: number; prevHash: string; hash: string };

/** A log of `n` example decisions in segments of 10, written through the CLI. */
async function cliLog(n: number, from = 0): Promise<void> {
  const input = Array.from({ length: n }, (_, i) => JSON.stringify(exampleDecision(from + i))).join('\n') + '\n';
  const append = await runCli(
    ['audit', 'append', '--key', t.keyFile, '--seal-every-records', '10', '--seal-every-ms', '600000'],
    t.home,
    input,
  );
  expect(append.code, append.stderr).toBe(0);
}

/** Tree sizes of the checkpoints, in order (where the writer sealed depends on timing: read them, do not assume them). */
const treeSizes = (): number[] =>
  readdirSync(join(t.dir, 'checkpoints'))
    .map((n) => Number(n.slice(0, 12)))
    .sort((a, b) => a - b);
const verify = (): Promise<CliResult> => runCli(['audit', 'verify', '--trusted-keys', t.trustedFile], t.home);
const checkpointFile = (treeSize: number): string => join(t.dir, 'checkpoints', `${String(treeSize).padStart(12, '0')}.json`);
const readMeta = (treeSize: number) =>
  JSON.parse(readFileSync(checkpointFile(treeSize), 'utf8')) as { segment: { key: string; sha256: string; lastHash: string } };
const segmentFile = (treeSize: number): string => join(t.dir, ...readMeta(treeSize).segment.key.split('/'));
const readLines = (file: string): Sealed[] =>
  gunzipSync(readFileSync(file))
    .toString('utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Sealed);

/** Re-chains records from `seq` on (hashes and links recomputed) and returns the stored lines. */
function rechain(records: Sealed[], firstSeq: number): string[] {
  let prev = records[0]!.prevHash;
  return records.map((r, i) => {
    const { seq: _s, prevHash: _p, hash: _h, ...body } = r;
    const chained = chainRecord(body, firstSeq + i, prev);
    prev = chained.hash;
    return chained.line;
  });
}

describe('verify names the record or field an attacker touched', () => {
  it('a forged record inserted into a re-chained segment is named at its own position, not as a genuine seq', async () => {
    t = tempLog();
    await cliLog(25);
    const [first] = treeSizes();
    const file = segmentFile(first!);
    const genuine = readLines(file);
    const forged = exampleDecision(900, { tenantId: 'acme', decision: 'allow' });
    // seq 4 becomes the forged record; the genuine seqs 4..9 move to 5..10, all re-chained
    const tampered = [...genuine.slice(0, 4), { ...forged, seq: 4, prevHash: '', hash: '' } as Sealed, ...genuine.slice(4)];
    const lines = rechain(tampered, 0);
    const bytes = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    writeFileSync(file, bytes);
    // the attacker also updates the checkpoint's unsigned digest of the segment
    const meta = JSON.parse(readFileSync(checkpointFile(first!), 'utf8')) as { segment: { sha256: string } };
    meta.segment.sha256 = segmentDigest(bytes);
    writeFileSync(checkpointFile(first!), JSON.stringify(meta));

    const out = await verify();
    expect(out.code, out.stdout).toBe(1);
    expect(out.stdout).toMatch(new RegExp(`\\[inserted\\] record seq 4 \\(id ${forged.id}\\) at line 5 of segments/\\S+ was inserted`));
    // the genuine records are not blamed: neither the one now numbered 10 nor any other
    for (const g of genuine) expect(out.stdout).not.toContain(g.id);
    expect(out.stdout).toContain(`seqs 5..${first!} are the genuine seqs 4..${first! - 1} renumbered`);
  }, 120_000);

  it("an altered segment.lastHash is named as that checkpoint's field; the writer refuses to chain to it", async () => {
    t = tempLog();
    await cliLog(25);
    const newest = treeSizes().at(-1)!;
    const meta = JSON.parse(readFileSync(checkpointFile(newest), 'utf8')) as { segment: { lastHash: string } };
    const genuineLast = meta.segment.lastHash;
    meta.segment.lastHash = `sha256:${'ab'.repeat(32)}`;
    writeFileSync(checkpointFile(newest), JSON.stringify(meta));

    const more = await runCli(
      ['audit', 'append', '--key', t.keyFile, '--seal-every-records', '10'],
      t.home,
      JSON.stringify(exampleDecision(77)) + '\n',
    );
    expect(more.code).not.toBe(0);
    expect(more.stderr).toMatch(/segment\.lastHash/);

    const out = await verify();
    expect(out.code, out.stdout).toBe(1);
    expect(out.stdout).toMatch(
      new RegExp(
        `\\[checkpoint\\] checkpoints/0*${newest}\\.json: segment\\.lastHash sha256:(ab){32} is not the hash of the segment's last record, seq ${newest - 1} \\(${genuineLast}\\)`,
      ),
    );
    expect(out.stdout).not.toMatch(/\[(chain|modified|inserted|deleted)\]/);
  }, 120_000);

  it('a truncated checkpoint object is reported as such; the records it sealed verify as intact', async () => {
    t = tempLog();
    await cliLog(35);
    const sizes = treeSizes();
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    const file = checkpointFile(sizes[1]!);
    truncateSync(file, Math.floor(readFileSync(file).length / 2));

    const out = await verify();
    expect(out.code, out.stdout + out.stderr).toBe(1);
    expect(out.stdout).toMatch(new RegExp(`35 record\\(s\\) in ${sizes.length} segment\\(s\\)`));
    expect(out.stdout).toMatch(new RegExp(`\\[checkpoint\\] checkpoints/0*${sizes[1]}\\.json is unreadable`));
    expect(out.stdout).toContain(`records ${sizes[0]}..${sizes[1]! - 1} it sealed are intact`);
    expect(out.stdout).not.toMatch(/\[(deleted|inserted|chain|modified|merkle)\]/);
  }, 120_000);

  it('a byte flipped in an unsealed WAL line is a finding naming the file, line and seq', async () => {
    t = tempLog();
    await cliLog(10);
    // a writer killed with records accepted but not sealed: they are in the WAL only
    const input = join(t.home, 'more.jsonl');
    writeFileSync(
      input,
      Array.from({ length: 500 }, (_, i) => JSON.stringify(exampleDecision(10 + i, { tier: 'write-high' }))).join('\n') + '\n',
    );
    const writer = spawnCli(
      ['audit', 'append', input, '--key', t.keyFile, '--seal-every-records', '1000', '--seal-every-ms', '600000', '--in-flight', '1'],
      t.home,
    );
    let acked = 0;
    writer.stdout!.on('data', (d: Buffer) => {
      acked += (d.toString().match(/"seq"/g) ?? []).length;
      if (acked >= 8 && writer.exitCode === null) writer.kill('SIGKILL');
    });
    const signal = await new Promise((resolve) => writer.on('close', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const walDir = join(t.dir, 'wal');
    const walFile = join(
      walDir,
      readdirSync(walDir).find((n) => n.endsWith('.wal') && readFileSync(join(walDir, n)).length > 0)!,
    );
    expect((await verify()).code).toBe(0);

    const lines = readFileSync(walFile, 'utf8').split('\n');
    const target = JSON.parse(lines[4]!) as Sealed;
    lines[4] = lines[4]!.replace(`"tenantId":"${target.tenantId}"`, `"tenantId":"${target.tenantId === 'acme' ? 'globex' : 'acme'}"`);
    writeFileSync(walFile, lines.join('\n'));
    const out = await verify();
    expect(out.code, out.stdout).toBe(1);
    expect(out.stdout).toContain(`[wal] line 5 of ${walFile} (seq ${target.seq}) was modified: its content does not match its hash`);
  }, 120_000);

  it('an index row edited (decision, tenant) is a finding naming the seq, the column and both values', async () => {
    t = tempLog();
    await cliLog(25);
    const db = new DatabaseSync(join(t.dir, 'index.sqlite'));
    const deny = 5; // exampleDecision(5) is a deny
    // filter values are numbers into the names table (index layout v3)
    db.prepare("UPDATE records SET decision = (SELECT id FROM names WHERE value = 'allow') WHERE seq = ?").run(deny);
    const moved = db
      .prepare('SELECT r.id AS id, n.value AS tenant FROM records r JOIN names n ON n.id = r.tenant WHERE seq = 12')
      .get() as {
      id: string;
      tenant: string;
    };
    db.prepare('UPDATE records SET tenant = (SELECT id FROM names WHERE value = ?) WHERE seq = 12').run(
      moved.tenant === 'acme' ? 'globex' : 'acme',
    );
    db.close();

    const out = await verify();
    expect(out.code, out.stdout).toBe(1);
    expect(out.stdout).toMatch(
      new RegExp(`\\[index\\] .*index\\.sqlite: the row for seq 5 \\(id [0-9a-f-]+\\) says decision "allow", the sealed record "deny"`),
    );
    expect(out.stdout).toContain(
      `the row for seq 12 (id ${moved.id}) says tenant "${moved.tenant === 'acme' ? 'globex' : 'acme'}", the sealed record "${moved.tenant}"`,
    );
    expect(out.stdout.match(/\[index\]/g)).toHaveLength(2);
  }, 120_000);
});
