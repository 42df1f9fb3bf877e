import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainRecord, GENESIS_HASH } from './chain.js';
import { cliPath, runCli } from './fixtures/cli.js';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import { appendMany, exampleDecision, LocalDirectorySink, queryAudit, verifyAuditLog, type SegmentSink } from './index.js';

let t: TempLog;
afterEach(() => t?.remove());

/** Runs `charter audit append` under a file size limit (ulimit -f, 1 KiB blocks); returns its acknowledgements. */
function appendUnderFileLimit(blocks: number, file: string): Promise<{ acks: Array<{ id: string; seq: number }>; code: number | null }> {
  const args = [cliPath(), 'audit', 'append', file, '--key', t.keyFile, '--origin', 'charter.test/audit', '--seal-every-ms', '600000'];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `ulimit -f ${blocks}; exec "$@"`, 'bash', process.execPath, ...args], {
      env: { ...process.env, CHARTER_HOME: t.home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const acks = stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { id: string; seq: number });
      resolve({ acks, code });
    });
  });
}

describe('the writer under failures', () => {
  it.each([40, 116, 333])(
    'loses no acknowledged record when the WAL hits a file size limit (ulimit -f %i)',
    async (blocks) => {
      t = tempLog();
      await (await t.open()).close(); // the index exists before the limit applies
      const file = join(t.home, 'records.jsonl');
      const records = Array.from({ length: 3000 }, (_, i) => exampleDecision(i, { tier: 'write-high' }));
      writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const { acks, code } = await appendUnderFileLimit(blocks, file);
      expect(code).not.toBe(0); // the limit was hit: the run fails
      expect(acks.length).toBeLessThan(records.length);
      expect(acks.length).toBeGreaterThan(0); // the index (SQLite shared memory: 32 KiB) opened, the WAL hit the limit

      await (await t.open()).close(); // recovery without the limit seals what the WAL holds
      const seqOf = new Map((await queryAudit({ dir: t.dir, limit: 100_000 })).map((r) => [r.id, r.seq]));
      const lost = acks.filter((a) => seqOf.get(a.id) !== a.seq);
      expect(lost, `${lost.length} of ${acks.length} acknowledged records lost`).toEqual([]);
    },
    60_000,
  );
});

describe('the writer lock', () => {
  const lockFile = () => join(t.dir, 'LOCK');
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

  it('takes over a lock naming its own pid (a container restart where node is pid 1), and says so', async () => {
    t = tempLog();
    mkdirSync(t.dir, { recursive: true });
    for (const stale of [`${process.pid}\n`, JSON.stringify({ pid: process.pid, bootId, startTime: '1' })]) {
      writeFileSync(lockFile(), stale);
      const recovered: string[] = [];
      const log = await t.open({ onRecovery: (m) => recovered.push(m) });
      expect(recovered).toEqual([expect.stringMatching(/took over a stale lock .*names this process, which does not hold it/)]);
      await expect(t.open()).rejects.toThrow(`audit log is open in another process (pid ${process.pid})`);
      await log.close();
    }
  });

  it('takes over a lock whose pid now belongs to another process, or from before a reboot; refuses a live holder', async () => {
    t = tempLog();
    mkdirSync(t.dir, { recursive: true });
    const holder = spawn('sleep', ['30']);
    try {
      const pid = holder.pid!;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      writeFileSync(lockFile(), JSON.stringify({ pid, bootId, startTime }));
      await expect(t.open()).rejects.toThrow(`audit log is open in another process (pid ${pid})`);
      for (const [stale, why] of [
        [{ pid, bootId, startTime: String(Number(startTime) - 5) }, /now belongs to another process/],
        [{ pid, bootId: 'another-boot', startTime }, /before the last reboot/],
      ] as const) {
        writeFileSync(lockFile(), JSON.stringify(stale));
        const recovered: string[] = [];
        await (await t.open({ onRecovery: (m) => recovered.push(m) })).close();
        expect(recovered).toEqual([expect.stringMatching(why)]);
      }
    } finally {
      holder.kill();
    }
  });
});

describe('power-loss leftovers are recovered by the writer, each reported', () => {
  const opened = async (opts: Parameters<TempLog['open']>[0] = {}) => {
    const recovered: string[] = [];
    const log = await t.open({ ...opts, onRecovery: (m) => recovered.push(m) });
    return { log, recovered };
  };

  it('an empty latest-checkpoint (a rename that reached the disk before the data)', async () => {
    t = tempLog();
    await t.fill(30, { sealEveryRecords: 10 });
    writeFileSync(join(t.dir, 'latest-checkpoint'), '');
    const { log, recovered } = await opened();
    expect(recovered).toEqual([
      expect.stringMatching(/latest-checkpoint: empty \(a torn write\): replaced by the sink's newest checkpoint \(tree size 30\)/),
    ]);
    expect(readFileSync(join(t.dir, 'latest-checkpoint'), 'utf8')).toMatch(/^charter\.test\/audit\n30\n/);
    await log.append(exampleDecision(30));
    await log.close();
    expect(await queryAudit({ dir: t.dir })).toHaveLength(31);
  });

  it('a NUL page followed by a complete WAL line: cut at the first NUL, the acknowledged lines before it sealed', async () => {
    t = tempLog();
    const records = [0, 1, 2].map((i) => exampleDecision(i, { tier: 'write-high' }));
    const first = chainRecord(records[0]!, 0, GENESIS_HASH);
    const second = chainRecord(records[1]!, 1, first.hash);
    const third = chainRecord(records[2]!, 2, second.hash);
    mkdirSync(join(t.dir, 'wal'), { recursive: true });
    const walFile = join(t.dir, 'wal', '000000000000.wal');
    writeFileSync(
      walFile,
      Buffer.concat([Buffer.from(`${first.line}\n${second.line}\n`), Buffer.alloc(4096), Buffer.from(`${third.line}\n`)]),
    );
    const { log, recovered } = await opened();
    expect(recovered).toEqual([
      expect.stringMatching(
        /000000000000\.wal: NUL bytes from offset \d+ .*: cut at byte \d+, \d+ bytes of a write that was never acknowledged dropped/,
      ),
    ]);
    expect(log.size).toBe(2);
    await log.close();
    expect((await queryAudit({ dir: t.dir })).map((r) => r.id)).toEqual([records[0]!.id, records[1]!.id]);
    expect((await verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted })).findings).toEqual([]);
  });

  it('a garbage index.sqlite: the writer, query and reindex rebuild it from the segments', async () => {
    t = tempLog();
    await t.fill(30, { sealEveryRecords: 10 });
    const garbage = () => {
      for (const f of ['index.sqlite-wal', 'index.sqlite-shm']) rmSync(join(t.dir, f), { force: true });
      writeFileSync(join(t.dir, 'index.sqlite'), Buffer.alloc(8192, 0x5a));
    };
    garbage();
    const { log, recovered } = await opened();
    expect(recovered).toEqual([
      expect.stringMatching(/index\.sqlite: not a readable SQLite database .*: deleted, rebuilt from the sealed segments/),
    ]);
    await log.close();
    expect(await queryAudit({ dir: t.dir })).toHaveLength(30);
    garbage();
    const reindex = await runCli(['audit', 'reindex'], t.home);
    expect(reindex.code, reindex.stderr).toBe(0);
    expect(reindex.stdout).toMatch(/index rebuilt: 30 record/);
    garbage();
    expect(await queryAudit({ dir: t.dir })).toHaveLength(30);
  });

  it('refuses to append on top of a torn newest sealed segment', async () => {
    t = tempLog();
    await t.fill(30, { sealEveryRecords: 10 });
    const day = join(t.dir, 'segments', readdirSync(join(t.dir, 'segments'))[0]!);
    const newest = join(day, readdirSync(day).sort().at(-1)!);
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length >> 1));
    await expect(t.open()).rejects.toThrow(/refusing to append: the newest sealed segment \(seqs \d+-29\) is torn or missing/);
    writeFileSync(newest, bytes); // restored: the writer continues
    await (await t.open()).close();
  });

  it('an object in checkpoints/ that the writer did not write is passed over and reported, not a denial of service', async () => {
    t = tempLog();
    await t.fill(30, { sealEveryRecords: 10 });
    writeFileSync(join(t.dir, 'checkpoints', '000000999999.json'), '{"planted": true}\n');
    const { log, recovered } = await opened();
    expect(recovered).toEqual([
      expect.stringMatching(/checkpoints\/000000999999\.json in .*: passed over, not a checkpoint this writer sealed/),
    ]);
    expect(log.size).toBe(30);
    await log.append(exampleDecision(30));
    await log.close();
    expect(await queryAudit({ dir: t.dir })).toHaveLength(31);
  });
});

describe('seal lag under load', () => {
  it('backpressure bounds the acknowledged records awaiting a checkpoint, however slow the sink', async () => {
    t = tempLog();
    const local = new LocalDirectorySink(t.dir);
    let sealedSize = 0;
    // a sink that takes 40 ms per object: appends outrun it by far
    const slow: SegmentSink = {
      location: local.location,
      open: () => local.open(),
      get: (k) => local.get(k),
      list: (p) => local.list(p),
      async put(key, body) {
        await new Promise((r) => setTimeout(r, 40));
        await local.put(key, body);
        if (key.startsWith('checkpoints/')) sealedSize = Math.max(sealedSize, Number(key.slice(12, 24)));
      },
    };
    const log = await t.open({ sink: slow, sealEveryRecords: 50, maxUnsealedRecords: 120, sealEveryMs: 10 });
    let worst = 0;
    const records = Array.from({ length: 3000 }, (_, i) => exampleDecision(i, { tier: 'write-high' }));
    await appendMany(log, records, { inFlight: 500, onAck: (_, seq) => (worst = Math.max(worst, seq + 1 - sealedSize)) });
    await log.close();
    expect(worst).toBeGreaterThan(50); // the bound was reached...
    expect(worst).toBeLessThanOrEqual(120); // ...and held
  }, 60_000);
});
