// Benchmark: append latency of durable (write-low) decisions at 1,000 records/s offered, the way
// a gateway appends one decision per tool call. Open loop (bench/harness.ts): latency runs from
// when each append was due to its promise resolving (durable in the WAL). One log stays open
// for all rounds, as in a gateway; the first second is a warm-up (JIT, worker threads starting)
// and not counted, then each round offers 3 s (three seals: one per second by default).
// Beside it, the limit in the same run, round by round: the same open loop over a bare group
// commit (lines of the same size, O_DSYNC writes, one in flight, as the WAL writes them), so on a
// shared machine the ratio says what the log adds to what the disk and the scheduler give; and
// the disk's own write + fdatasync. Prints one JSON line.
import { generateKeyPairSync } from 'node:crypto';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleDecision, openAuditLog } from '../audit/index.js';
import { chainRecord, GENESIS_HASH } from '../audit/chain.js';
import { LocalKeySigner } from '../signing/index.js';
import { emit, figure, inRounds, limits, openLoop, summarize, type OpenLoopResult } from './harness.js';

const RATE = 1_000;
const ROUND_SECONDS = 3;
const AIM_P99_MS = 5;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-latency-'));

/** A bare group commit: each call resolves once its line is on disk; lines queued meanwhile go in the next write. */
function bareGroupCommit(handle: FileHandle): (line: string) => Promise<void> {
  let queue: Array<{ line: string; done: () => void }> = [];
  let writing = false;
  const pump = async () => {
    writing = true;
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      await handle.write(Buffer.from(group.map((g) => g.line).join('\n') + '\n'));
      for (const g of group) g.done();
    }
    writing = false;
  };
  return (line) =>
    new Promise<void>((done) => {
      queue.push({ line, done });
      if (!writing) void pump();
    });
}

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
  const rawHandle = await open(
    join(dir, 'bare.wal'),
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC,
    0o644,
  );
  const bare = bareGroupCommit(rawHandle);
  const line = chainRecord(record(), 0, GENESIS_HASH).line;
  const offerBare = (seconds: number) => openLoop(RATE, RATE * seconds, () => bare(line));
  await offer(1); // warm-up, not counted
  await offerBare(1);
  const runs: OpenLoopResult[] = [];
  const bareRuns: OpenLoopResult[] = [];
  const p99 = await inRounds(async () => {
    const run = await offer(ROUND_SECONDS);
    runs.push(run);
    bareRuns.push(await offerBare(ROUND_SECONDS));
    return run.latency.p99;
  });
  await log.close();
  await rawHandle.close();
  emit('audit-latency', {
    offeredPerSecond: RATE,
    recordsPerRound: RATE * ROUND_SECONDS,
    p99Ms: figure(p99, {
      unit: 'ms',
      lowerIsBetter: true,
      limit: {
        what: `p99 of the same open loop over a bare O_DSYNC group commit of ${Buffer.byteLength(line) + 1}-byte lines, alternating rounds`,
        sampled: summarize(bareRuns.map((r) => r.latency.p99)),
      },
      aim: AIM_P99_MS,
    }),
    bareP50Ms: summarize(bareRuns.map((r) => r.latency.p50)),
    fdatasyncP50Ms: fsync,
    p50Ms: summarize(runs.map((r) => r.latency.p50)),
    maxMs: summarize(runs.map((r) => r.latency.max)),
    achievedPerSecond: runs.map((r) => r.achievedPerSecond),
    maxSendLagMs: runs.map((r) => r.maxSendLagMs),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
