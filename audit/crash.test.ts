import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './fixtures/cli.js';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import { exampleDecision, LocalDirectorySink, queryAudit, verifyAuditLog, type DecisionRecord } from './index.js';

let t: TempLog;
afterEach(() => t?.remove());

const APPEND = (file: string) => [
  'audit',
  'append',
  file,
  '--key',
  t.keyFile,
  '--origin',
  'charter.test/audit',
  '--seal-every-records',
  '400',
  '--seal-every-ms',
  '50',
];

/** Runs `charter audit append` and SIGKILLs it once it has acknowledged `killAfter` records. */
function appendUntilKilled(file: string, killAfter: number): Promise<Array<{ id: string; seq: number }>> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(APPEND(file), t.home);
    const acks: Array<{ id: string; seq: number }> = [];
    let buffered = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) acks.push(JSON.parse(l) as { id: string; seq: number });
      if (acks.length >= killAfter && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`append ended before the kill (code ${code}): ${stderr}`));
      else resolve(acks);
    });
  });
}

describe('crash safety', () => {
  it('kill -9 mid-stream loses no acknowledged record and duplicates none', async () => {
    t = tempLog();
    const records: DecisionRecord[] = Array.from({ length: 6000 }, (_, i) => exampleDecision(i));
    const tierOf = new Map(records.map((r) => [r.id, r.tier]));
    const file = join(t.home, 'records.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    // Each run replays the whole file: ids already in the log are acknowledged idempotently.
    const acknowledged = new Map<string, number>();
    for (const killAfter of [700, 2300, 4100]) {
      for (const ack of await appendUntilKilled(file, killAfter)) {
        const before = acknowledged.get(ack.id);
        // a durable acknowledgement never changes its seq in a later run
        if (before !== undefined && tierOf.get(ack.id) !== 'read') expect(ack.seq).toBe(before);
        if (tierOf.get(ack.id) !== 'read' || before === undefined) acknowledged.set(ack.id, ack.seq);
      }
    }
    const last = await runCli(APPEND(file), t.home);
    expect(last.code, last.stderr).toBe(0);

    const stored = await queryAudit({ dir: t.dir });
    expect(stored.map((r) => r.seq).sort((a, b) => a - b)).toEqual([...Array(records.length).keys()]); // no gaps
    const seqOf = new Map(stored.map((r) => [r.id, r.seq]));
    expect(seqOf.size).toBe(records.length); // every record exactly once
    expect(new Set(stored.map((r) => r.seq)).size).toBe(records.length);
    for (const [id, seq] of acknowledged) {
      if (tierOf.get(id) !== 'read') expect(seqOf.get(id), `acknowledged ${id}`).toBe(seq);
    }
    const report = await verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted });
    expect(report.findings).toEqual([]);
    expect(report.treeSize).toBe(records.length);
  }, 240_000);
});
