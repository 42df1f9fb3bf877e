import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainRecord } from './chain.js';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import { exampleDecision, LocalDirectorySink, verifyAuditLog, type VerifyReport } from './index.js';

let t: TempLog;
let segmentFile: string;
beforeEach(async () => {
  t = tempLog();
  await t.fill(60, { sealEveryRecords: 20 });
  const dayDir = join(t.dir, 'segments', readdirSync(join(t.dir, 'segments'))[0]!);
  segmentFile = join(dayDir, readdirSync(dayDir).sort()[0]!);
});
afterEach(() => t.remove());

const readLines = (): string[] => gunzipSync(readFileSync(segmentFile)).toString('utf8').trimEnd().split('\n');
const writeLines = (lines: string[]): void => writeFileSync(segmentFile, gzipSync(Buffer.from(lines.join('\n') + '\n')));
const verify = (): Promise<VerifyReport> => verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted });
const fields = (line: string): { seq: number; id: string } => JSON.parse(line) as { seq: number; id: string };

describe('tampering with a local segment is detected and named', () => {
  it('an untouched log verifies', async () => {
    expect((await verify()).findings).toEqual([]);
  });

  it('modified record', async () => {
    const lines = readLines();
    const target = fields(lines[3]!);
    lines[3] = lines[3]!.replace(/"decision":"(allow|deny)"/, (_m, d: string) => `"decision":"${d === 'allow' ? 'deny' : 'allow'}"`);
    writeLines(lines);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'modified', seq: target.seq, id: target.id, line: 4 }));
    expect(report.findings.some((f) => f.kind === 'merkle')).toBe(true);
  });

  it('modified record whose hash was recomputed', async () => {
    const lines = readLines();
    const original = JSON.parse(lines[2]!) as Record<string, unknown>;
    const { seq, prevHash, hash: _h, ...record } = original;
    const forged = chainRecord(
      { ...(record as ReturnType<typeof exampleDecision>), decision: 'allow', reasons: ['forged'] },
      seq as number,
      prevHash as string,
    );
    lines[2] = forged.line;
    writeLines(lines);
    const report = await verify();
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'chain', seq: (seq as number) + 1, line: 4 }));
    expect(report.findings.find((f) => f.kind === 'chain')!.message).toMatch(new RegExp(`does not chain to seq ${seq as number}`));
    expect(report.findings.some((f) => f.kind === 'merkle')).toBe(true);
  });

  it('deleted record', async () => {
    const lines = readLines();
    const target = fields(lines[5]!);
    lines.splice(5, 1);
    writeLines(lines);
    const report = await verify();
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'deleted', seq: target.seq }));
    expect(report.findings.find((f) => f.kind === 'deleted')!.message).toMatch(`record seq ${target.seq} is missing`);
  });

  it('reordered records', async () => {
    const lines = readLines();
    const moved = fields(lines[7]!);
    [lines[6], lines[7]] = [lines[7]!, lines[6]!];
    writeLines(lines);
    const report = await verify();
    expect(report.findings.map((f) => f.kind).sort()).toEqual(['reordered', 'segment']);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'reordered', seq: moved.seq, id: moved.id, line: 7 }));
  });

  it('inserted record (valid hash, duplicate seq)', async () => {
    const lines = readLines();
    const prev = JSON.parse(lines[9]!) as { seq: number; hash: string };
    const forged = exampleDecision(999, { tenantId: 'acme', decision: 'allow' });
    lines.splice(10, 0, chainRecord(forged, prev.seq + 1, prev.hash).line);
    writeLines(lines);
    const report = await verify();
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'inserted', id: forged.id, seq: prev.seq + 1 }));
    expect(report.findings.find((f) => f.id === forged.id)!.message).toMatch(/inserted/);
  });

  it('inserted record beyond the checkpoint', async () => {
    const lines = readLines();
    const last = JSON.parse(lines[lines.length - 1]!) as { seq: number; hash: string };
    const forged = exampleDecision(998);
    lines.push(chainRecord(forged, last.seq + 1, last.hash).line);
    writeLines(lines);
    const report = await verify();
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'inserted', id: forged.id, seq: last.seq + 1 }));
  });

  it('deleted segment', async () => {
    rmSync(segmentFile);
    const report = await verify();
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'deleted', key: expect.stringContaining('/000000000000-') }));
  });

  it('deleted checkpoint in the middle, and truncation against an anchor', async () => {
    const checkpoints = readdirSync(join(t.dir, 'checkpoints')).sort();
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    rmSync(join(t.dir, 'checkpoints', checkpoints[1]!));
    const middle = await verify();
    expect(middle.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['deleted', 'inserted']));
    // removing the newest checkpoint and segment looks like a shorter log; a saved anchor reveals it
    const newest = join(t.dir, 'checkpoints', checkpoints[checkpoints.length - 1]!);
    const anchor = (JSON.parse(readFileSync(newest, 'utf8')) as { note: string }).note;
    rmSync(newest);
    const truncated = await verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted, anchor });
    expect(truncated.findings).toContainEqual(expect.objectContaining({ kind: 'anchor' }));
  });

  it("deleting the newest segment and its checkpoint is caught by the writer's witness, without an anchor", async () => {
    // Where segments end depends on when the writer sealed them: read the sizes, do not assume them.
    const [before, newest] = readdirSync(join(t.dir, 'checkpoints')).sort().slice(-2);
    const meta = (name: string) =>
      JSON.parse(readFileSync(join(t.dir, 'checkpoints', name), 'utf8')) as { treeSize: number; segment: { key: string } };
    const full = meta(newest!);
    const shorter = meta(before!).treeSize;
    expect(await verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted, stateDir: t.dir })).toMatchObject({
      ok: true,
      treeSize: full.treeSize,
    });
    rmSync(join(t.dir, 'checkpoints', newest!));
    rmSync(join(t.dir, ...full.segment.key.split('/')));
    // on its own the sink now looks like a shorter, valid log
    expect(await verify()).toMatchObject({ ok: true, treeSize: shorter });
    const report = await verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted, stateDir: t.dir });
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([
      // the writer's index still has the deleted records' rows
      expect.objectContaining({
        kind: 'index',
        message: expect.stringContaining(`holds rows for seqs ${shorter}..${full.treeSize - 1}, beyond the log's tree size ${shorter}`),
      }),
      expect.objectContaining({
        kind: 'anchor',
        message: expect.stringMatching(
          new RegExp(
            `is smaller than the checkpoint recorded in .*latest-checkpoint \\(tree size ${full.treeSize}, root .*\\): the log was truncated`,
          ),
        ),
      }),
    ]);
    // the writer refuses to continue the shorter log, which would give the deleted seqs a second history
    await expect(t.open()).rejects.toThrow(
      `ends at tree size ${shorter}, but this directory sealed a checkpoint of tree size ${full.treeSize}`,
    );
  });
});
