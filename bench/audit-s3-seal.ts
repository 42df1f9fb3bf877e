// Benchmark: sustained sealing into S3 Object Lock on a local radosgw (started and stopped
// here with the project's script). Records are appended as fast as the log takes them and
// sealed in batches of 5,000 (one segment + one checkpoint object each); the rate counts a
// record only once its segment and checkpoint are stored in the locked bucket.
// Prints one JSON object.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendMany, exampleDecision, openAuditLog, S3ObjectLockSink, startLocalObjectLockS3 } from '../audit/index.js';
import { LocalKeySigner } from '../signing/index.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 40_000);
const BATCH = 5_000;
const IN_FLIGHT = 2_000;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-s3-'));
const s3 = await startLocalObjectLockS3();
try {
  await s3.createLockedBucket('audit', 1);
  const sink = new S3ObjectLockSink({
    bucket: 'audit',
    prefix: 'bench',
    retentionDays: 1,
    endpoint: s3.endpoint,
    credentials: s3.credentials,
  });
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const records = Array.from({ length: N }, (_, i) => exampleDecision(i, { tier: 'write-low' }));
  let sealErrors = 0;
  const log = await openAuditLog({
    dir,
    signer,
    origin: 'bench.local/audit',
    sink,
    sealEveryRecords: BATCH,
    sealEveryMs: 1_000,
    onSealError: () => sealErrors++,
  });
  const start = performance.now();
  await appendMany(log, records, { inFlight: IN_FLIGHT });
  await log.close(); // returns once the last segment and checkpoint are in the bucket
  const elapsed = (performance.now() - start) / 1000;
  const segments = (await sink.list('segments/')).length;
  process.stdout.write(
    JSON.stringify({
      bench: 'audit-s3-seal',
      records: N,
      segments,
      objectsPut: segments * 2,
      sealedRecordsPerSecond: Math.round(N / elapsed),
      aimPerSecond: 5_000,
      met: N / elapsed >= 5_000,
      sealErrors,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    }) + '\n',
  );
} finally {
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
}
