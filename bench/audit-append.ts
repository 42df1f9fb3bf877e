// Benchmark: durable append throughput of the audit log (WAL group commit, sealing into local
// segments, the index on its worker). Every record is a write-low decision, so each append
// resolves only once fdatasync'ed. Beside it, in the same run, the limit: the disk's own group
// commit, the same number of lines of the same size written in groups of IN_FLIGHT with one
// fdatasync each. Rounds with min and median (bench/harness.ts). Prints one JSON line.
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendMany, exampleDecision, openAuditLog } from '../audit/index.js';
import { chainRecord, GENESIS_HASH } from '../audit/chain.js';
import { LocalKeySigner } from '../signing/index.js';
import { emit, figure, inRounds, round3, ROUNDS } from './harness.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 50_000);
const IN_FLIGHT = 2_000;
const AIM = 20_000;
const root = mkdtempSync(join(tmpdir(), 'bench-audit-append-'));
const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
const records = Array.from({ length: N }, (_, i) => exampleDecision(i, { tier: 'write-low' }));
const lineBytes = Buffer.byteLength(chainRecord(records[0]!, 0, GENESIS_HASH).line) + 1;

/** One round: N durable appends into a fresh log; records/s until the last is durable, and CPU per record (all threads). */
async function appendRound(round: number): Promise<{ durable: number; sealed: number; cpuMicros: number; sealLagMs: number }> {
  const dir = join(root, `log-${round}`);
  const log = await openAuditLog({ dir, signer, origin: 'bench.local/audit', sealEveryRecords: 10_000 });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await appendMany(log, records, { inFlight: IN_FLIGHT });
  const acked = performance.now();
  const durable = N / ((acked - start) / 1000);
  // Seal lag of the last record acknowledged: backpressure (maxUnsealedRecords, 20,000 here)
  // bounds what is left to seal, whatever the offered rate.
  await log.flush();
  const sealLagMs = performance.now() - acked;
  await log.close();
  const sealed = N / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpu0);
  rmSync(dir, { recursive: true, force: true });
  return { durable, sealed, cpuMicros: (cpu.user + cpu.system) / N, sealLagMs };
}

/** The disk's group commit: N lines of the same size, IN_FLIGHT per write + fdatasync; records/s. */
function rawGroupCommit(): number {
  const file = join(root, 'raw.wal');
  const fd = openSync(file, 'w');
  const group = Buffer.alloc(lineBytes * IN_FLIGHT, 0x61);
  const start = performance.now();
  try {
    for (let done = 0; done < N; done += IN_FLIGHT) {
      writeSync(fd, group);
      fdatasyncSync(fd);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return N / ((performance.now() - start) / 1000);
}

try {
  const runs: Array<{ durable: number; sealed: number; cpuMicros: number; sealLagMs: number }> = [];
  const rounds = Math.min(ROUNDS, 3); // each round is N appends: three keep the bench near half a minute
  const limit = await inRounds(() => rawGroupCommit(), rounds);
  const durable = await inRounds(async (r) => {
    const run = await appendRound(r);
    runs.push(run);
    return run.durable;
  }, rounds);
  emit('audit-append', {
    records: N,
    concurrency: IN_FLIGHT,
    lineBytes,
    durableAppendsPerSecond: figure(durable, {
      unit: 'records/s',
      lowerIsBetter: false,
      limit: { what: `raw group commit: ${IN_FLIGHT} lines of ${lineBytes} bytes per write + fdatasync`, sampled: limit },
      aim: AIM,
    }),
    durableAndSealedPerSecond: runs.map((r) => Math.round(r.sealed)),
    lastAckToSealedAndIndexedMs: runs.map((r) => Math.round(r.sealLagMs)),
    // On a shared machine wall-clock rate depends on the load; CPU per record much less.
    cpuMicrosPerRecord: runs.map((r) => round3(r.cpuMicros)),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
