import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../common/index.js';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import { exampleDecision, exampleEvidence, queryAudit, verifyAuditLog, LocalDirectorySink } from './index.js';

let t: TempLog;
afterEach(() => t?.remove());

describe('AuditLog', () => {
  it('assigns contiguous seqs, seals segments and verifies', async () => {
    t = tempLog();
    const log = await t.open({ sealEveryRecords: 25 });
    const results = [];
    for (let i = 0; i < 60; i++) results.push(await log.append(i % 7 === 0 ? exampleEvidence(i) : exampleDecision(i)));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    await log.close();
    const report = await verifyAuditLog({ sink: new LocalDirectorySink(t.dir), trustedKeys: t.trusted });
    expect(report).toMatchObject({ ok: true, records: 60, treeSize: 60, origin: 'charter.test/audit', signedBy: ['audit'] });
    expect(report.segments).toBeGreaterThanOrEqual(2);
    expect(readdirSync(join(t.dir, 'wal'))).toEqual([]);
  });

  it('is idempotent by record id, also across restarts', async () => {
    t = tempLog();
    const log = await t.open();
    const r = exampleDecision(1, { tier: 'write-high' });
    const first = await log.append(r);
    await log.append(exampleDecision(2));
    expect(await log.append(r)).toEqual(first);
    await log.close();
    const again = await t.open();
    expect(await again.append(r)).toEqual(first);
    expect(again.size).toBe(2);
    await again.close();
    expect((await queryAudit({ dir: t.dir })).map((x) => x.id)).toHaveLength(2);
  });

  it('acknowledges read decisions before they are durable, and makes them durable within the bound', async () => {
    t = tempLog();
    const log = await t.open({ readDurabilityMs: 30 });
    const read = exampleDecision(0, { tier: 'read' });
    const { seq } = await log.append(read);
    expect(seq).toBe(0);
    const walFile = join(t.dir, 'wal', readdirSync(join(t.dir, 'wal'))[0]!);
    expect(readFileSync(walFile, 'utf8')).toBe(''); // acknowledged, not yet written
    await new Promise((r) => setTimeout(r, 120));
    expect(readFileSync(walFile, 'utf8')).toContain(read.id);
    // a write-high decision is durable when its promise resolves
    const write = exampleDecision(1, { tier: 'write-high' });
    await log.append(write);
    expect(readFileSync(walFile, 'utf8')).toContain(write.id);
    await log.close();
  });

  it('seals on time as well as on count', async () => {
    t = tempLog();
    const log = await t.open({ sealEveryRecords: 1000, sealEveryMs: 50 });
    await log.append(exampleDecision(3, { tier: 'critical' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(readdirSync(join(t.dir, 'checkpoints'))).toEqual(['000000000001.json']);
    await log.close();
  });

  it('rejects invalid records naming the field, and a different origin for an existing log', async () => {
    t = tempLog();
    const log = await t.open();
    const bad = { ...exampleDecision(0), tier: 'super-critical' } as unknown as Parameters<typeof log.append>[0];
    await expect(log.append(bad)).rejects.toThrow(InputError);
    await expect(log.append(bad)).rejects.toThrow(/\(tier\)/);
    await expect(log.append({ ...exampleDecision(0), id: 'not-a-uuid' })).rejects.toThrow(/\(id\)/);
    await log.append(exampleDecision(0));
    await expect(t.open()).rejects.toThrow(`audit log is open in another process (pid ${process.pid})`);
    await log.close();
    await expect(log.append(exampleDecision(1))).rejects.toThrow(/closed/);
    await expect(t.open({ origin: 'other.example/log' })).rejects.toThrow(/has origin 'charter.test\/audit'/);
    await expect(t.open({ origin: 'has space' })).rejects.toThrow(/invalid checkpoint origin/);
    await expect(t.open({ sealEveryRecords: 0 })).rejects.toThrow(/sealEveryRecords must be a positive integer/);
  });
});
