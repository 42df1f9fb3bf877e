import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath } from './fixtures/cli.js';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import { exampleDecision, queryAudit } from './index.js';

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
