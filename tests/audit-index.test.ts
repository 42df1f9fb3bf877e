import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { exampleDecision, proveInclusion, verifyInclusionProof } from '../audit/index.js';

let t: TempLog;
let ids: string[];
const N = 1_300; // more than a few 256-record blocks of stored Merkle nodes

beforeAll(async () => {
  t = tempLog();
  const records = Array.from({ length: N }, (_, i) => exampleDecision(i));
  ids = records.map((r) => r.id);
  const input = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const append = await runCli(['audit', 'append', '--key', t.keyFile, '--seal-every-records', '300'], t.home, input);
  expect(append.code, append.stderr).toBe(0);
}, 180_000);
afterAll(() => t?.remove());

const editRow = (sql: string, ...params: Array<string | number>): void => {
  const db = new DatabaseSync(join(t.dir, 'index.sqlite'));
  db.prepare(sql).run(...params);
  db.close();
};

describe('the index locates records; what a query shows is read from the sealed segments', () => {
  it('proves records anywhere in the log from the stored tree, and the proofs verify', async () => {
    for (const seq of [0, 255, 256, 700, 1_023, 1_024, N - 1]) {
      const proof = await proveInclusion({ dir: t.dir, recordId: ids[seq]! });
      expect(verifyInclusionProof(JSON.parse(JSON.stringify(proof)), t.trusted)).toMatchObject({ seq, treeSize: N });
    }
  }, 60_000);

  it('an index row edited to say allow for a sealed deny cannot make query show allow', async () => {
    const deny = 5; // exampleDecision(5) is a deny
    editRow("UPDATE records SET decision = (SELECT id FROM names WHERE value = 'allow') WHERE seq = ?", deny);
    const shown = await runCli(['audit', 'query', '--trace-id', 'trace-0', '--format', 'json'], t.home);
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as Array<{ seq: number; decision: string }>).find((r) => r.seq === deny)!.decision).toBe('deny');
    const filtered = await runCli(['audit', 'query', '--decision', 'allow', '--trace-id', 'trace-0'], t.home);
    expect(filtered.code).toBe(1);
    expect(filtered.stderr).toMatch(/index row of seq 5 claims decision allow, the sealed record has deny/);
    editRow("UPDATE records SET decision = (SELECT id FROM names WHERE value = 'deny') WHERE seq = ?", deny);
  }, 60_000);

  it('an index row pointing at another record is refused', async () => {
    editRow('UPDATE records SET hash = (SELECT hash FROM records WHERE seq = 7) WHERE seq = 6');
    const q = await runCli(['audit', 'query', '--trace-id', 'trace-0'], t.home);
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/index row of seq 6 does not match the record sealed/);
  }, 60_000);

  it('holds no record content: well under 1 KB a record', () => {
    const bytes =
      statSync(join(t.dir, 'index.sqlite')).size + (statSync(join(t.dir, 'index.sqlite-wal'), { throwIfNoEntry: false })?.size ?? 0);
    expect(bytes / N).toBeLessThan(1_000);
  });
});
