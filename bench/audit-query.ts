// Benchmark: `queryAudit` by tenant and time range over an index of 1,000,000 records
// (30 days, three tenants), the way `charter audit query --tenant T --from --to` runs it:
// open the index, sync it with the (empty) sink, query, parse the matching records.
// The index is filled directly with synthetic sealed records: the query path is what is
// measured, not the log that would have produced them. Prints one JSON object.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditIndex, exampleDecision, queryAudit, type SealedRecord } from '../audit/index.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 1_000_000);
const CHUNK = 20_000;
const START = Date.parse('2026-10-01T00:00:00.000Z');
const SPAN_MS = 30 * 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-query-'));
try {
  const template = exampleDecision(0);
  const index = AuditIndex.open(join(dir, 'index.sqlite'));
  const buildStart = performance.now();
  for (let first = 0; first < N; first += CHUNK) {
    const rows = [];
    for (let seq = first; seq < Math.min(N, first + CHUNK); seq++) {
      const record = {
        ...template,
        id: `01900000-0000-7000-8000-${seq.toString(16).padStart(12, '0')}`,
        time: new Date(START + Math.floor((seq / N) * SPAN_MS)).toISOString(),
        tenantId: ['acme', 'globex', 'initech'][seq % 3]!,
        traceId: `trace-${Math.floor(seq / 10)}`,
        seq,
        prevHash: template.argsDigest,
        hash: template.argsDigest,
      } as SealedRecord;
      rows.push({ record, line: JSON.stringify(record) });
    }
    index.addSegment(`segments/bench/${first}`, rows, first + rows.length);
  }
  index.close();
  const buildSeconds = (performance.now() - buildStart) / 1000;

  // One hour of one tenant in the middle of the month, then one full day (first 1,000 rows).
  const hourFrom = new Date(START + 15 * 86_400_000).toISOString();
  const hourTo = new Date(START + 15 * 86_400_000 + 3_600_000).toISOString();
  const dayTo = new Date(START + 16 * 86_400_000).toISOString();
  const time = async (filter: { from: string; to: string; limit?: number }) => {
    const runs: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      rows = (await queryAudit({ dir, tenant: 'globex', ...filter })).length;
      runs.push(performance.now() - t0);
    }
    runs.sort((a, b) => a - b);
    return { rows, medianMs: Number(runs[2]!.toFixed(1)) };
  };
  const hour = await time({ from: hourFrom, to: hourTo });
  const day = await time({ from: hourFrom, to: dayTo, limit: 1_000 });
  process.stdout.write(
    JSON.stringify({
      bench: 'audit-query',
      records: N,
      indexBuildSeconds: Number(buildSeconds.toFixed(1)),
      tenantHour: hour,
      tenantDayFirst1000: day,
      aimMs: 500,
      met: Math.max(hour.medianMs, day.medianMs) < 500,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
