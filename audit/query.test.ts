import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import { exampleDecision, exampleEvidence, queryAudit, rebuildIndex } from './index.js';

let t: TempLog;
afterEach(() => t?.remove());

describe('queryAudit', () => {
  it('filters by every field and rebuilds its index from the segments', async () => {
    t = tempLog();
    const log = await t.open({ sealEveryRecords: 7 });
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 30; i++) await log.append(exampleDecision(i, { time: new Date(base + i * 60_000).toISOString() }));
    const evidence = exampleEvidence(1, { time: new Date(base).toISOString() });
    await log.append(evidence);
    await log.close();

    const q = (f: Parameters<typeof queryAudit>[0]) => queryAudit({ ...f, dir: t.dir });
    const acme = await q({ dir: t.dir, tenant: 'acme' });
    expect(acme.map((r) => r.seq)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    const window = await q({ dir: t.dir, tenant: 'acme', from: '2026-01-01T00:05:00Z', to: '2026-01-01T00:15:00Z' });
    expect(window.map((r) => r.seq)).toEqual([6, 9, 12]);
    expect((await q({ dir: t.dir, decision: 'deny' })).map((r) => r.seq)).toEqual([0, 5, 10, 15, 20, 25]);
    expect((await q({ dir: t.dir, tier: 'critical', agent: 'spot-bidding' })).map((r) => r.seq)).toEqual([3, 15, 27]);
    expect((await q({ dir: t.dir, tool: 'submit_bid', limit: 2 })).map((r) => r.seq)).toEqual([1, 5]);
    expect((await q({ dir: t.dir, traceId: 'trace-2' })).map((r) => r.seq)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect((await q({ dir: t.dir, kind: 'evidence' })).map((r) => r.id)).toEqual([evidence.id]);
    const byManifest = await q({ dir: t.dir, manifestDigest: exampleDecision(1).manifestDigest! });
    expect(byManifest.map((r) => r.seq)).toEqual([30, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29]);

    rmSync(join(t.dir, 'index.sqlite'));
    rmSync(join(t.dir, 'index.sqlite-wal'), { force: true });
    rmSync(join(t.dir, 'index.sqlite-shm'), { force: true });
    expect(await rebuildIndex({ dir: t.dir })).toBe(31);
    expect((await q({ dir: t.dir, tenant: 'acme' })).length).toBe(10);
    await expect(q({ dir: t.dir, from: 'not a date' })).rejects.toThrow("(from): not a date/time: 'not a date'");
  });
});
