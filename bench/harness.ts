/**
 * What every benchmark shares, so their figures can be trusted and compared:
 * - several rounds of each measurement, reported as min and median (never one lucky run);
 * - the physical limit or the raw library call measured beside it in the same process and the
 *   ratio printed (a figure means little without the floor it stands on);
 * - open-loop load whose latency runs from when a request was DUE, not when it was sent, so a
 *   stalled sender cannot hide its queueing (no coordinated omission);
 * - the aim and whether it is met, the load average and the Node version in every report.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { contentPath } from '../common/index.js';

/** Rounds a figure to three decimals (milliseconds to the microsecond). */
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Rounds per measurement; BENCH_ROUNDS overrides (CI smoke runs use 1). */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));

export interface Sampled {
  min: number;
  median: number;
  max: number;
  rounds: number[];
}

export function summarize(values: number[]): Sampled {
  if (values.length === 0) throw new Error('no samples to summarize');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: round3(s[0]!), median: round3(median), max: round3(s[s.length - 1]!), rounds: values.map(round3) };
}

/** Runs `measure` `n` times (sequentially) and summarizes what each round returned. */
export async function inRounds(measure: (round: number) => number | Promise<number>, n = ROUNDS): Promise<Sampled> {
  const values: number[] = [];
  for (let r = 0; r < n; r++) values.push(await measure(r));
  return summarize(values);
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

export function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round3(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round3(s[s.length - 1]!), n: s.length };
}

/** Milliseconds of each of `n` sequential calls, after `warmup` untimed ones. */
export async function timeEach(call: () => unknown, n: number, warmup = Math.min(200, n)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    out.push(performance.now() - t0);
  }
  return out;
}

export interface OpenLoopResult {
  /** Latency of each request from the moment it was due by the schedule to its completion. */
  latency: Percentiles;
  offeredPerSecond: number;
  achievedPerSecond: number;
  /** How late the sender itself was, worst case: a large value means the machine fell behind. */
  maxSendLagMs: number;
}

/**
 * Offers `count` requests at `ratePerSecond` on a fixed schedule, whether or not earlier ones
 * finished, and measures each from its due time.
 */
export async function openLoop(ratePerSecond: number, count: number, request: (i: number) => Promise<unknown>): Promise<OpenLoopResult> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  const dueAt = (i: number) => start + (i * 1000) / ratePerSecond;
  let maxSendLagMs = 0;
  for (let i = 0; i < count;) {
    const now = performance.now();
    for (; i < count && dueAt(i) <= now; i++) {
      const due = dueAt(i);
      maxSendLagMs = Math.max(maxSendLagMs, now - due);
      pending.push(request(i).then(() => void latencies.push(performance.now() - due)));
    }
    if (i < count) await sleep(Math.max(0, Math.min(1, dueAt(i) - performance.now())));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  return {
    latency: percentiles(latencies),
    offeredPerSecond: ratePerSecond,
    achievedPerSecond: Math.round(count / elapsed),
    maxSendLagMs: round3(maxSendLagMs),
  };
}

/** A measured figure with its limit, ratio and aim. `lowerIsBetter` for times, not for rates. */
export interface Figure {
  unit: string;
  median: number;
  min: number;
  rounds: number[];
  limit?: { what: string; median: number };
  /** median / limit for times, limit / median for rates: how many times the floor it costs. */
  ratioToLimit?: number;
  aim?: number;
  met?: boolean;
}

export function figure(
  sampled: Sampled,
  opts: { unit: string; lowerIsBetter: boolean; limit?: { what: string; sampled: Sampled }; aim?: number },
): Figure {
  const out: Figure = { unit: opts.unit, median: sampled.median, min: sampled.min, rounds: sampled.rounds };
  if (opts.limit) {
    const l = opts.limit.sampled.median;
    out.limit = { what: opts.limit.what, median: l };
    out.ratioToLimit = round3(opts.lowerIsBetter ? sampled.median / l : l / sampled.median);
  }
  if (opts.aim !== undefined) {
    out.aim = opts.aim;
    out.met = opts.lowerIsBetter ? sampled.median <= opts.aim : sampled.median >= opts.aim;
  }
  return out;
}

/** Prints one benchmark's report as one JSON line, with the conditions it ran under. */
export function emit(bench: string, body: Record<string, unknown>): void {
  process.stdout.write(
    JSON.stringify({
      bench,
      node: process.version,
      rounds: ROUNDS,
      loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
      ...body,
    }) + '\n',
  );
}

/** The machine's limits, measured here and now, to set each figure beside. */
export const limits = {
  /** MB/s of SHA-256 over 1 MiB buffers on one core. */
  sha256MegabytesPerSecond(): number {
    const buf = randomBytes(1 << 20);
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 300) {
      createHash('sha256').update(buf).digest();
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  },

  /** Milliseconds of one 4 KiB write + fdatasync on the disk under `dir` (median of 200). */
  fdatasyncMs(dir = tmpdir()): number {
    const scratch = mkdtempSync(join(dir, 'bench-fsync-'));
    const fd = openSync(join(scratch, 'probe'), 'w');
    try {
      const page = Buffer.alloc(4096, 1);
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        writeSync(fd, page);
        fdatasyncSync(fd);
        times.push(performance.now() - t0);
      }
      return percentiles(times).p50;
    } finally {
      closeSync(fd);
      rmSync(scratch, { recursive: true, force: true });
    }
  },

  /** Milliseconds of one indexed point query on a 100,000-row SQLite table (median). */
  sqlitePointQueryMs(): number {
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, tenant TEXT, v TEXT); CREATE INDEX t_tenant ON t(tenant)');
    const insert = db.prepare('INSERT INTO t (k, tenant, v) VALUES (?, ?, ?)');
    db.exec('BEGIN');
    for (let i = 0; i < 100_000; i++) insert.run(i, `t${i % 10}`, 'x'.repeat(64));
    db.exec('COMMIT');
    const get = db.prepare('SELECT v FROM t WHERE k = ?');
    const times: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      const t0 = performance.now();
      get.get((i * 7919) % 100_000);
      times.push(performance.now() - t0);
    }
    db.close();
    return percentiles(times).p50;
  },
};

export interface SupplierProcess {
  url: string;
  /** CPU milliseconds the process used so far; undefined where /proc/<pid>/schedstat is not there. */
  cpuMs(): number | undefined;
  close(): void;
}

/**
 * Simulated suppliers in their own process (`charter negotiations suppliers`), as suppliers are
 * other systems: their CPU is not the bench process's. Killed when the bench exits, even half-way.
 */
export async function serveSuppliers(opts: { tenants: string[]; perTenant?: number; latencyMs: number }): Promise<SupplierProcess> {
  const args = ['negotiations', 'suppliers', '--tenants', opts.tenants.join(','), '--latency', String(opts.latencyMs)];
  if (opts.perTenant !== undefined) args.push('--per-tenant', String(opts.perTenant));
  const child = spawn(process.execPath, [contentPath('dist', 'cli', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const close = () => void child.kill('SIGTERM');
  process.once('exit', close);
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the suppliers' process exited with ${code} before it served`)));
  });
  return {
    url,
    cpuMs: () => {
      try {
        return Number(readFileSync(`/proc/${child.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      } catch {
        return undefined;
      }
    },
    close,
  };
}
