// Benchmark: durable append throughput of the audit log (WAL group commit + sealing into
// local segments). Every record is a write-low decision, so each append resolves only once
// fdatasync'ed. Prints one JSON object.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendMany, exampleDecision, openAuditLog } from '../audit/index.js';
import { LocalKeySigner } from '../signing/index.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 50_000);
const IN_FLIGHT = 2_000;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-append-'));
try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const records = Array.from({ length: N }, (_, i) => exampleDecision(i, { tier: 'write-low' }));
  const log = await openAuditLog({ dir, signer, origin: 'bench.local/audit', sealEveryRecords: 10_000 });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await appendMany(log, records, { inFlight: IN_FLIGHT });
  const durable = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await log.close();
  const sealed = (performance.now() - start) / 1000;
  process.stdout.write(
    JSON.stringify({
      bench: 'audit-append',
      records: N,
      concurrency: IN_FLIGHT,
      durableAppendsPerSecond: Math.round(N / durable),
      durableAndSealedPerSecond: Math.round(N / sealed),
      aimPerSecond: 20_000,
      met: N / durable >= 20_000,
      // On a shared machine wall-clock rate depends on the load; CPU per record does not.
      cpuMicrosPerRecord: Number(((cpu.user + cpu.system) / N).toFixed(1)),
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
