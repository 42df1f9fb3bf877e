// Benchmark: `verifyAuditLog` over a local log (AUDIT_BENCH_RECORDS, default 100,000; 1,000,000
// is the scale) in segments of 10,000: every checkpoint signature and consistency proof,
// every segment digest, record hash, chain link and Merkle root, on worker threads. Beside it,
// in the same run, the floor: SHA-256 of every record body on one core (the machine's SHA-256
// throughput over the log's bytes), with the ratio, in rounds with min and median.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDirectorySink, verifyAuditLog } from '../audit/index.js';
import { LocalKeySigner, trustedKeyFromPublicKey } from '../signing/index.js';
import { buildSealedLog } from './fixtures/audit-log.js';
import { emit, figure, inRounds, limits, ROUNDS, summarize } from './harness.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
const VERIFY_ROUNDS = Math.min(ROUNDS, Math.max(2, Math.round(2_000_000 / N)));
const RECORD_BYTES = 800; // about the size of an example decision's stored line
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-verify-'));
try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const trustedKeys = { keys: [trustedKeyFromPublicKey(signer.publicKey, 'bench', ['audit-checkpoint'])] };
  const t0 = performance.now();
  await buildSealedLog(dir, signer, {
    records: N,
    segment: 10_000,
    start: Date.parse('2026-10-01T00:00:00.000Z'),
    spanMs: 30 * 86_400_000,
  });
  const buildSeconds = (performance.now() - t0) / 1000;

  const sha = summarize([limits.sha256MegabytesPerSecond(), limits.sha256MegabytesPerSecond(), limits.sha256MegabytesPerSecond()]);
  const verify = await inRounds(
    async () => {
      const s = performance.now();
      const report = await verifyAuditLog({ sink: new LocalDirectorySink(dir), trustedKeys });
      if (!report.ok || report.records !== N) throw new Error(`verify failed: ${JSON.stringify(report.findings.slice(0, 3))}`);
      return N / ((performance.now() - s) / 1000);
    },
    // at 1 M records a round takes tens of seconds: fewer rounds (reported as verifyRounds)
    VERIFY_ROUNDS,
  );
  emit('audit-verify', {
    records: N,
    verifyRounds: VERIFY_ROUNDS,
    segments: Math.ceil(N / 10_000),
    threads: availableParallelism(),
    buildSeconds: Number(buildSeconds.toFixed(1)),
    limits: { sha256MBps: sha },
    verifyRecordsPerSecond: figure(verify, {
      unit: 'records/s',
      lowerIsBetter: false,
      limit: {
        what: `SHA-256 of each record body (~${RECORD_BYTES} bytes) on one core`,
        sampled: summarize(sha.rounds.map((mb) => (mb * 1e6) / RECORD_BYTES)),
      },
      aim: 200_000,
    }),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
