import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { exampleDecision, exampleEvidence, type EvidenceBundle } from '../audit/index.js';

let t: TempLog;
let auditor: string;
let keys: string;
const N = 700; // acme: 234 records, 47 of them denials

beforeAll(async () => {
  t = tempLog();
  const records = [
    ...Array.from({ length: N }, (_, i) => exampleDecision(i)),
    exampleEvidence(0), // a record without a tenant
  ];
  const input = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const append = await runCli(['audit', 'append', '--key', t.keyFile, '--seal-every-records', '100', '--in-flight', '1'], t.home, input);
  expect(append.code, append.stderr).toBe(0);
  expect(readdirSync(join(t.dir, 'checkpoints')).length).toBeGreaterThanOrEqual(5);
  auditor = mkdtempSync(join(tmpdir(), 'charter-auditor-'));
  keys = join(auditor, 'trusted-keys.json');
  copyFileSync(t.trustedFile, keys);
}, 180_000);
afterAll(() => {
  t?.remove();
  if (auditor) rmSync(auditor, { recursive: true, force: true });
});

const exportAcme = async (file: string): Promise<EvidenceBundle> => {
  const out = await runCli(['audit', 'export', '--tenant', 'acme', '--out', file], t.home);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
};
const verifyBundle = (file: string) => runCli(['audit', 'verify', '--bundle', file, '--trusted-keys', keys, '--json'], t.home);

describe('an evidence bundle proves it holds every record of the tenant and period', () => {
  it("an exported bundle verifies with all of the tenant's records", async () => {
    const file = join(auditor, 'acme.json');
    await exportAcme(file);
    const ok = await verifyBundle(file);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, records: 234, findings: [] });
  }, 120_000);

  it('dropping one record, or every denial, from the bundle is a finding naming the seqs', async () => {
    const file = join(auditor, 'drop.json');
    const bundle = await exportAcme(file);
    const part = bundle.checkpoints.find((c) => c.segment && c.segment.records.length > 3)!.segment!;
    const dropped = JSON.parse(part.records.splice(2, 1)[0]!) as { seq: number };
    writeFileSync(file, JSON.stringify(bundle));
    const one = await verifyBundle(file);
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout).findings.join('\n')).toMatch(new RegExp(`missing from the bundle: seq ${dropped.seq}\\b`));

    const denials = await exportAcme(file);
    let removed = 0;
    for (const c of denials.checkpoints) {
      if (!c.segment) continue;
      const kept = c.segment.records.filter((l) => !l.includes('"decision":"deny"'));
      removed += c.segment.records.length - kept.length;
      c.segment.records = kept;
    }
    expect(removed).toBe(47);
    writeFileSync(file, JSON.stringify(denials));
    const none = await verifyBundle(file);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout).findings.length).toBeGreaterThan(0);
  }, 120_000);

  it('leaving out a whole segment or checkpoint, or shortening a seq list, is a finding', async () => {
    const file = join(auditor, 'seg.json');
    const bundle = await exportAcme(file);
    delete bundle.checkpoints[2]!.segment;
    writeFileSync(file, JSON.stringify(bundle));
    expect(JSON.parse((await verifyBundle(file)).stdout).findings.join('\n')).toMatch(/overlap the period, but the bundle leaves them out/);

    const gap = await exportAcme(file);
    gap.checkpoints.splice(3, 1);
    writeFileSync(file, JSON.stringify(gap));
    expect(JSON.parse((await verifyBundle(file)).stdout).findings.join('\n')).toMatch(/a checkpoint is missing/);

    const short = await exportAcme(file);
    const part = short.checkpoints[1]!.segment!;
    part.seqs.pop();
    part.records.pop();
    writeFileSync(file, JSON.stringify(short));
    expect(JSON.parse((await verifyBundle(file)).stdout).findings.join('\n')).toMatch(/seq list does not match the signed directory/);
  }, 120_000);

  it('editing the index cannot hide a record from export: it reads the sealed segments', async () => {
    const db = new DatabaseSync(join(t.dir, 'index.sqlite'));
    const name = (value: string) => `(SELECT id FROM names WHERE value = '${value}')`;
    const { seq } = db.prepare(`SELECT seq FROM records WHERE tenant = ${name('acme')} ORDER BY seq LIMIT 1 OFFSET 5`).get() as {
      seq: number;
    };
    db.prepare(`UPDATE records SET tenant = ${name('globex')} WHERE seq = ?`).run(seq);
    db.close();
    const file = join(auditor, 'index.json');
    await exportAcme(file);
    const ok = await verifyBundle(file);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, records: 234 });
    expect(readFileSync(file, 'utf8')).toContain(`\\"seq\\":${seq},`);
  }, 120_000);
});
