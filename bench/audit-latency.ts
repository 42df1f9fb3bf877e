// Benchmark: append latency of durable (write-low) decisions at 1,000 records/s offered for
// 5 s, the way a gateway appends one decision per tool call. Open loop (bench/harness.ts):
// latency runs from when each append was due to its promise resolving (durable in the WAL),
// beside the disk's own fdatasync. Prints one JSON object.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleDecision, openAuditLog } from '../audit/index.js';
import { LocalKeySigner } from '../signing/index.js';
import { emit, limits, openLoop, round3 } from './harness.js';

const RATE = 1_000;
const SECONDS = 5;
const N = RATE * SECONDS;
const AIM_P99_MS = 5;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-latency-'));
try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const records = Array.from({ length: N }, (_, i) => exampleDecision(i, { tier: 'write-low' }));
  const fsyncMs = limits.fdatasyncMs(dir);
  const log = await openAuditLog({ dir, signer, origin: 'bench.local/audit' });
  const run = await openLoop(RATE, N, (i) => log.append(records[i]!));
  await log.close();
  emit('audit-latency', {
    records: N,
    ...run,
    limit: { what: 'one 4 KiB write + fdatasync on the same disk (p50)', ms: round3(fsyncMs) },
    p99RatioToFsync: round3(run.latency.p99 / fsyncMs),
    aimP99Ms: AIM_P99_MS,
    met: run.latency.p99 <= AIM_P99_MS,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
