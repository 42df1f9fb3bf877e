// Benchmark: `verifyAuditLog` speed (hash chain, Merkle roots, checkpoint signatures and
// consistency proofs) over a local log of 100,000 records in segments of 10,000.
// Prints one JSON object.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleDecision, LocalDirectorySink, openAuditLog, verifyAuditLog } from '../audit/index.js';
import { LocalKeySigner, trustedKeyFromPublicKey } from '../signing/index.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-verify-'));
try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const log = await openAuditLog({ dir, signer, origin: 'bench.local/audit', sealEveryRecords: 10_000 });
  // read-tier appends are acknowledged without waiting for fsync: the quickest way to build the log
  for (let i = 0; i < N; i++) await log.append(exampleDecision(i, { tier: 'read' }));
  await log.close();
  const trustedKeys = { keys: [trustedKeyFromPublicKey(signer.publicKey, 'bench', ['audit-checkpoint'])] };
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const report = await verifyAuditLog({ sink: new LocalDirectorySink(dir), trustedKeys });
    if (!report.ok || report.records !== N) throw new Error(`verify failed: ${JSON.stringify(report.findings.slice(0, 3))}`);
    runs.push((performance.now() - start) / 1000);
  }
  const best = Math.min(...runs);
  process.stdout.write(
    JSON.stringify({
      bench: 'audit-verify',
      records: N,
      segments: Math.ceil(N / 10_000),
      bestSeconds: Number(best.toFixed(3)),
      recordsPerSecond: Math.round(N / best),
      aimPerSecond: 200_000,
      met: N / best >= 200_000,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
