// Benchmark: append latency of durable (write-low) decisions at 1,000 records/s offered for
// 5 s, the way a gateway appends one decision per tool call. Latency runs from the call to
// the promise resolving (durable in the WAL). Prints one JSON object.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exampleDecision, openAuditLog } from '../audit/index.js';
import { LocalKeySigner } from '../signing/index.js';

const RATE = 1_000;
const SECONDS = 5;
const N = RATE * SECONDS;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-latency-'));
try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const records = Array.from({ length: N }, (_, i) => exampleDecision(i, { tier: 'write-low' }));
  const log = await openAuditLog({ dir, signer, origin: 'bench.local/audit' });
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  let sent = 0;
  // Open-loop load: every tick sends what the schedule says is due, whether or not earlier appends finished.
  while (sent < N) {
    const due = Math.min(N, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      pending.push(log.append(records[sent]!).then(() => void latencies.push(performance.now() - t0)));
    }
    await sleep(1);
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  await log.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(3));
  process.stdout.write(
    JSON.stringify({
      bench: 'audit-latency',
      offeredPerSecond: RATE,
      achievedPerSecond: Math.round(N / elapsed),
      records: N,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: q(1),
      aimP99Ms: 5,
      met: q(0.99) <= 5,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
