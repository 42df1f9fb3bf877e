// Benchmark: append latency of durable (write-low) decisions at 1,000 records/s offered, the way
// a gateway appends one decision per tool call. Open loop (bench/harness.ts): latency runs from
// when each append was due to its promise resolving (durable in the WAL). One log stays open
// for all rounds, as in a gateway; the first second is a warm-up (JIT, worker threads starting)
// and not counted, then each round offers 3 s (three seals: one per second by default).
// Beside it, the disk's own write + fdatasync. Prints one JSON line.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleDecision, openAuditLog } from '../audit/index.js';
import { LocalKeySigner } from '../signing/index.js';
import { emit, figure, inRounds, limits, openLoop, summarize, type OpenLoopResult } from './harness.js';

const RATE = 1_000;
const ROUND_SECONDS = 3;
const AIM_P99_MS = 5;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-latency-'));
try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  let next = 0;
  const record = () => exampleDecision(next++, { tier: 'write-low' });
  const fsync = summarize([limits.fdatasyncMs(dir), limits.fdatasyncMs(dir), limits.fdatasyncMs(dir)]);
  const log = await openAuditLog({ dir, signer, origin: 'bench.local/audit' });
  const offer = (seconds: number) => {
    const batch = Array.from({ length: RATE * seconds }, record);
    return openLoop(RATE, batch.length, (i) => log.append(batch[i]!));
  };
  await offer(1); // warm-up, not counted
  const runs: OpenLoopResult[] = [];
  const p99 = await inRounds(async () => {
    const run = await offer(ROUND_SECONDS);
    runs.push(run);
    return run.latency.p99;
  });
  await log.close();
  emit('audit-latency', {
    offeredPerSecond: RATE,
    recordsPerRound: RATE * ROUND_SECONDS,
    p99Ms: figure(p99, {
      unit: 'ms',
      lowerIsBetter: true,
      limit: { what: 'one 4 KiB write + fdatasync on the same disk (p50)', sampled: fsync },
      aim: AIM_P99_MS,
    }),
    p50Ms: summarize(runs.map((r) => r.latency.p50)),
    maxMs: summarize(runs.map((r) => r.latency.max)),
    achievedPerSecond: runs.map((r) => r.achievedPerSecond),
    maxSendLagMs: runs.map((r) => r.maxSendLagMs),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
