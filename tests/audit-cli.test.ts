import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../audit/fixtures/cli.js';
import { tempLog, type TempLog } from '../audit/fixtures/temp-log.js';
import { exampleDecision, type EvidenceBundle } from '../audit/index.js';

let t: TempLog;
afterEach(() => t?.remove());

const firstSegment = (dir: string): string => {
  const day = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0]!);
  return join(day, readdirSync(day).sort()[0]!);
};

describe('charter audit (end to end)', () => {
  it('append, query, verify, prove, verify-proof, export and verify --bundle', async () => {
    t = tempLog();
    const records = Array.from({ length: 40 }, (_, i) => exampleDecision(i));
    const input = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const append = await runCli(['audit', 'append', '--key', t.keyFile, '--seal-every-records', '15'], t.home, input);
    expect(append.code, append.stderr).toBe(0);
    expect(append.stdout.trim().split('\n')).toHaveLength(40);

    const csv = await runCli(['audit', 'query', '--tenant', 'globex', '--decision', 'allow', '--format', 'csv'], t.home);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('time,seq,kind,tenant,agent,tool,tier,decision,trace,id');
    expect(rows.slice(1).every((r) => r.includes(',globex,') && r.includes(',allow,'))).toBe(true);
    const json = await runCli(['audit', 'query', '--trace-id', 'trace-1', '--format', 'json'], t.home);
    expect((JSON.parse(json.stdout) as Array<{ seq: number }>).map((r) => r.seq)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    const ok = await runCli(['audit', 'verify', '--trusted-keys', t.trustedFile], t.home);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: .* 40 record\(s\)/);

    const proofFile = join(t.home, 'proof.json');
    expect((await runCli(['audit', 'prove', records[7]!.id, '--out', proofFile], t.home)).code).toBe(0);
    const proved = await runCli(['audit', 'verify-proof', proofFile, '--trusted-keys', t.trustedFile], t.home);
    expect(proved.stdout).toMatch(`record ${records[7]!.id} is leaf 7`);

    const bundleFile = join(t.home, 'bundle.json');
    const exported = await runCli(['audit', 'export', '--tenant', 'acme', '--from', '2000-01-01', '--out', bundleFile], t.home);
    expect(exported.code, exported.stderr).toBe(0);
    const offline = await runCli(['audit', 'verify', '--bundle', bundleFile, '--json', '--trusted-keys', t.trustedFile], t.home);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, records: 14 });
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as EvidenceBundle;
    const part = bundle.checkpoints.find((c) => c.segment?.records.length)!.segment!;
    part.records[0] = part.records[0]!.replace('"reasons":[]', '"reasons":["edited"]');
    writeFileSync(bundleFile, JSON.stringify(bundle));
    const edited = await runCli(['audit', 'verify', '--bundle', bundleFile, '--trusted-keys', t.trustedFile], t.home);
    expect(edited.code).toBe(1);

    // a tampered local segment fails verify, naming the record
    const file = firstSegment(t.dir);
    const lines = gunzipSync(readFileSync(file)).toString().trimEnd().split('\n');
    lines[2] = lines[2]!.replace('"ENFORCE"', '"LOG_ONLY"');
    writeFileSync(file, gzipSync(lines.join('\n') + '\n'));
    const bad = await runCli(['audit', 'verify', '--trusted-keys', t.trustedFile], t.home);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`[modified] record seq 2 (id ${records[2]!.id}) at line 3`);
  }, 180_000);

  it('bad input exits 2 naming the file, line or field; nothing is appended', async () => {
    t = tempLog();
    const good = JSON.stringify(exampleDecision(0));
    const badRecord = JSON.stringify({ ...exampleDecision(1), tier: 'urgent' });
    const bad = await runCli(['audit', 'append', '--key', t.keyFile], t.home, `${badRecord}\n`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/stdin:1 \(tier\)/);
    const broken = await runCli(['audit', 'append', '--key', t.keyFile], t.home, `${good}\n{"kind":\n`);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/stdin:2.*invalid JSON/);
    expect(broken.stdout).toBe(''); // line 1 was valid, but the input as a whole was not: nothing acknowledged
    expect(JSON.parse((await runCli(['audit', 'query', '--format', 'json'], t.home)).stdout)).toEqual([]);
    expect((await runCli(['audit', 'append', join(t.home, 'missing.jsonl'), '--key', t.keyFile], t.home)).stderr).toMatch(
      /missing.jsonl: file not found/,
    );
    expect((await runCli(['audit', 'query', '--format', 'xml'], t.home)).code).toBe(2);
    expect((await runCli(['audit', 'query', '--from', 'soon'], t.home)).stderr).toMatch(/not a date\/time/);
    expect((await runCli(['audit', 'verify-proof', join(t.home, 'keys', 'trusted-keys.json')], t.home)).code).toBe(2);
    const schema = await runCli(['audit', 'schema'], t.home);
    expect(JSON.parse(schema.stdout)).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema' });
  }, 180_000);
});
