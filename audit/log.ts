import { join } from 'node:path';
import { FindingError, InputError, recordSealLag, validateWith } from '../common/index.js';
import type { LocalKeySigner } from '../signing/index.js';
import { chainRecord, checkLine, GENESIS_HASH } from './chain.js';
import { validateOrigin } from './checkpoint.js';
import type { AuditIndex } from './index-db.js';
import { openIndex, parseSealedLine, syncIndex } from './index-sync.js';
import { backgroundIndexer, type IndexJob } from './index-writer.js';
import { AuditRecord, type SealedRecord } from './record.js';
import { sealBatch, stateFromCheckpoint, type SealedState } from './seal.js';
import { checkNewestSegment, newestOwnCheckpoint } from './resume.js';
import { LocalDirectorySink } from './sinks/local.js';
import type { SegmentSink } from './sinks/sink.js';
import { lockLogDir } from './lock.js';
import { WorkerPool } from './threads.js';
import { encodeSegment, type EncodedSegment, type SegmentJob } from './segment-encode.js';
import { readWalFiles, removeWalFile, WalWriter } from './wal.js';
import { checkWitness, recordWitness } from './witness.js';

export interface AuditLogOptions {
  /** Local state: `wal/`, `index.sqlite`, and (with the default sink) `segments/`, `checkpoints/`. */
  dir: string;
  /** Ed25519 key trusted for the `audit-checkpoint` purpose. */
  signer: LocalKeySigner;
  /** Checkpoint origin line, e.g. `charter.example.com/audit/prod`. */
  origin: string;
  /** Where segments go; default a LocalDirectorySink on `dir`. */
  sink?: SegmentSink;
  /** Seal after this many records (default 10,000). */
  sealEveryRecords?: number;
  /** Seal records at most this long after they were accepted (default 1,000 ms). */
  sealEveryMs?: number;
  /**
   * Backpressure: appends wait while this many accepted records await their checkpoint
   * (default twice sealEveryRecords, at least sealEveryRecords), so the seal lag is bounded
   * under any load: at most this many records, and the time it takes to seal them.
   */
  maxUnsealedRecords?: number;
  /** A `read` decision is acknowledged at once and durable within this delay (default 20 ms). */
  readDurabilityMs?: number;
  /** Called when a background seal fails (records stay in the WAL and the seal is retried). */
  onSealError?: (err: unknown) => void;
  /** Told what opening the log repaired by itself (a stale lock, power-loss leftovers). */
  onRecovery?: (message: string) => void;
}

export interface AuditLog {
  /**
   * Validates and appends a record. Resolves once durable in the WAL, except a `read`
   * decision, which resolves once accepted and is durable within `readDurabilityMs`.
   * An id already in the log resolves to its original seq and appends nothing.
   */
  append(record: AuditRecord): Promise<{ seq: number }>;
  /** Makes every accepted record durable and sealed (segment and checkpoint stored). */
  flush(): Promise<void>;
  /** Flushes and releases files; the log cannot be used afterwards. */
  close(): Promise<void>;
  /** Number of records accepted so far (the next seq). */
  readonly size: number;
}

interface Pending {
  seq: number;
  id: string;
  line: string;
  hash: string;
  time: string;
  /** When append accepted it (Date.now()), for the seal lag metric; unknown for records recovered from the WAL. */
  acceptedAtMs?: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A WAL file's records awaiting their seal: one WAL file becomes exactly one segment. */
interface Batch {
  walFile: string;
  items: Pending[];
}

/** A promise with its resolve function: settled with whether a seal attempt sealed anything. */
function sealAttempt(): { promise: Promise<boolean>; resolve: (sealed: boolean) => void } {
  let resolve!: (sealed: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

const needsDurability = (r: AuditRecord): boolean => r.kind === 'evidence' || r.tier !== 'read';

class FileAuditLog implements AuditLog {
  private nextSeq: number;
  private lastHash: string;
  /** Ids of records not yet in the index (unsealed, or sealed while the index catches up). */
  private readonly pendingIds = new Map<string, number>();
  /** Sealed segments whose ids stay in pendingIds until the index has them. */
  private readonly unindexed: Array<{ treeSize: number; ids: string[] }> = [];
  private indexing: Promise<void> = Promise.resolve();
  /** Accepted records in the current WAL file. */
  private current: Pending[] = [];
  private readonly sealQueue: Batch[] = [];

  // group commit
  private queue: string[] = [];
  private queueLastSeq = -1;
  private afterRotation: { lines: string[]; lastSeq: number } | null = null;
  /** The next WAL file, created while the current one takes its last lines. */
  private rotation: { next: Promise<WalWriter>; resolve: () => void } | null = null;
  /** Closing WAL files the log has moved on from (awaited by close). */
  private retired: Promise<unknown> = Promise.resolve();
  private durableSeq: number;
  private readonly waiters: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  private failure: unknown = null;

  // sealing
  private sealing: Promise<void> = Promise.resolve();
  private sealTimer: NodeJS.Timeout | null = null;
  private sealRequested = false;
  /** Settles after every seal attempt: appends held by backpressure wait on it. */
  private sealAttempt = sealAttempt();
  private closed = false;

  constructor(
    private readonly opts: Required<Omit<AuditLogOptions, 'sink' | 'onSealError' | 'onRecovery'>> & {
      onSealError?: (err: unknown) => void;
      unlock: () => void;
    },
    private readonly sink: SegmentSink,
    private readonly index: AuditIndex,
    private readonly indexer: WorkerPool<IndexJob, void>,
    private readonly sealer: WorkerPool<SegmentJob, EncodedSegment>,
    private readonly walDir: string,
    private writer: WalWriter,
    private sealed: SealedState,
    recovered: Batch[],
  ) {
    this.nextSeq = sealed.frontier.size + recovered.reduce((n, b) => n + b.items.length, 0);
    this.durableSeq = this.nextSeq - 1;
    this.lastHash = recovered.at(-1)?.items.at(-1)?.hash ?? sealed.lastHash;
    for (const b of recovered) for (const p of b.items) this.pendingIds.set(p.id, p.seq);
    this.sealQueue.push(...recovered);
  }

  get size(): number {
    return this.nextSeq;
  }

  async append(input: AuditRecord): Promise<{ seq: number }> {
    if (this.closed) throw new InputError('audit log is closed');
    if (this.failure) throw this.failure;
    const record = validateWith(AuditRecord, input, 'audit record');
    const existing = this.pendingIds.get(record.id) ?? this.index.seqOfId(record.id);
    if (existing !== undefined) {
      await this.durable(existing);
      return { seq: existing };
    }
    if (this.nextSeq - this.sealed.frontier.size >= this.opts.maxUnsealedRecords) return this.appendWhenSealed(record);
    const seq = this.nextSeq++;
    const prevHash = this.lastHash;
    const { line, hash } = chainRecord(record, seq, prevHash);
    this.lastHash = hash;
    this.pendingIds.set(record.id, seq);
    this.current.push({ seq, id: record.id, line, hash, time: record.time, acceptedAtMs: Date.now() });
    if (this.afterRotation) {
      this.afterRotation.lines.push(line);
      this.afterRotation.lastSeq = seq;
    } else {
      this.queue.push(line);
      this.queueLastSeq = seq;
    }
    const urgent = needsDurability(record);
    if (urgent) this.kickFlush();
    else this.readTimer ??= setTimeout(() => this.kickFlush(), this.opts.readDurabilityMs);
    this.scheduleSeal();
    if (urgent) await this.durable(seq);
    return { seq };
  }

  /** Backpressure: waits until the unsealed backlog is under the bound, retrying a failed seal every sealEveryMs. */
  private async appendWhenSealed(record: AuditRecord): Promise<{ seq: number }> {
    while (this.nextSeq - this.sealed.frontier.size >= this.opts.maxUnsealedRecords) {
      if (this.failure) throw this.failure;
      this.backgroundSeal();
      const sealed = await this.sealAttempt.promise;
      if (!sealed) await new Promise((r) => setTimeout(r, this.opts.sealEveryMs));
    }
    return this.append(record);
  }

  private durable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  private kickFlush(): void {
    if (this.readTimer) {
      clearTimeout(this.readTimer);
      this.readTimer = null;
    }
    if (this.flushing) return;
    this.flushing = this.runFlush()
      .catch((err) => this.fail(err))
      .finally(() => {
        this.flushing = null;
        if (!this.failure && (this.queue.length > 0 || this.rotation)) this.kickFlush();
      });
  }

  /** Group commit: every line queued while one write+fdatasync runs goes out in the next one. */
  private async runFlush(): Promise<void> {
    for (;;) {
      if (this.queue.length > 0) {
        const data = this.queue.join('\n') + '\n';
        const upTo = this.queueLastSeq;
        this.queue = [];
        await this.writer.append(data);
        this.durableSeq = upTo;
        while (this.waiters.length > 0 && this.waiters[0]!.seq <= upTo) this.waiters.shift()!.resolve();
      } else if (this.rotation) {
        const { next, resolve } = this.rotation;
        // Every line of the old file is on disk (O_DSYNC); it closes while the new one takes writes.
        const old = this.writer;
        this.writer = await next;
        this.retired = Promise.all([this.retired, old.close()]);
        this.queue = this.afterRotation!.lines;
        this.queueLastSeq = this.afterRotation!.lastSeq;
        this.afterRotation = null;
        this.rotation = null;
        resolve();
      } else {
        return;
      }
    }
  }

  /** A WAL write failed: nothing more is acknowledged (fail closed). */
  private fail(err: unknown): void {
    this.failure = new FindingError(`audit WAL write failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    this.settleSealAttempt(false);
  }

  /** Closes the current WAL file once its records are durable; later appends go to a new file. */
  private rotate(): Promise<void> {
    return new Promise((resolve) => {
      // The next file (and its directory entry's fsync) is made while the current file's last
      // group commits run, so appends after the rotation do not wait for both one after another.
      const next = WalWriter.create(this.walDir, this.nextSeq);
      next.catch(() => undefined); // a failure is met (and fails the log) where runFlush awaits it
      this.rotation = { next, resolve };
      this.afterRotation = { lines: [], lastSeq: -1 };
      this.sealQueue.push({ walFile: this.writer.file, items: this.current });
      this.current = [];
      this.kickFlush();
    });
  }

  private scheduleSeal(): void {
    if (this.current.length >= this.opts.sealEveryRecords) {
      this.backgroundSeal();
    } else if (!this.sealTimer) {
      this.sealTimer = setTimeout(() => this.backgroundSeal(), this.opts.sealEveryMs);
      this.sealTimer.unref();
    }
  }

  private backgroundSeal(): void {
    if (this.sealRequested) return;
    this.sealRequested = true;
    this.seal().catch((err) => this.opts.onSealError?.(err));
  }

  private settleSealAttempt(sealed: boolean): void {
    this.sealAttempt.resolve(sealed);
    this.sealAttempt = sealAttempt();
  }

  /** Seals everything accepted so far; seals run one at a time, in order. */
  private seal(): Promise<void> {
    if (this.sealTimer) {
      clearTimeout(this.sealTimer);
      this.sealTimer = null;
    }
    const run = this.sealing
      .catch(() => undefined)
      .then(async () => {
        this.sealRequested = false;
        if (this.current.length > 0) await this.rotate();
        while (this.sealQueue.length > 0) {
          const batch = this.sealQueue[0]!;
          const text = batch.items.map((p) => p.line).join('\n');
          const firstSeq = this.sealed.frontier.size;
          const encoded = await this.sealer.run({ text, firstSeq, frontier: this.sealed.frontier.snapshot() });
          const { meta, state } = await sealBatch(
            this.sink,
            this.sealed,
            encoded,
            batch.items[0]!.time,
            this.opts.origin,
            this.opts.signer,
          );
          this.sealed = state;
          recordSealLag(batch.items, Date.now());
          await recordWitness(this.opts.dir, meta);
          this.sendToIndex(batch.items, { text, segment: meta.segment.key, blocks: encoded.blocks, firstSeq, treeSize: meta.treeSize });
          await removeWalFile(batch.walFile, this.walDir);
          this.sealQueue.shift();
          this.settleSealAttempt(true);
        }
      });
    run.then(
      () => this.settleSealAttempt(true),
      () => this.settleSealAttempt(false),
    );
    this.sealing = run;
    return run;
  }

  /**
   * Hands a sealed segment to the index off the event loop. Its ids stay in pendingIds
   * (idempotent appends) until the index has them. If the index refuses or fails, it is
   * brought up to the sink's newest checkpoint instead, as when the log opens.
   */
  private sendToIndex(items: Pending[], where: IndexJob): void {
    this.unindexed.push({ treeSize: where.treeSize, ids: items.map((p) => p.id) });
    const job = this.indexer.run(where);
    this.indexing = Promise.all([this.indexing, job.then(() => where.treeSize).catch(() => syncIndex(this.sink, this.index))])
      .then(([, indexed]) => {
        while (this.unindexed.length > 0 && this.unindexed[0]!.treeSize <= indexed) {
          for (const id of this.unindexed.shift()!.ids) this.pendingIds.delete(id);
        }
      })
      .catch((err) => this.opts.onSealError?.(err));
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.seal();
    await this.indexing;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // appends arriving while the last seal runs are refused, not lost
    await this.flush();
    if (this.readTimer) clearTimeout(this.readTimer);
    await this.flushing;
    await this.retired;
    await this.writer.close();
    if (this.current.length === 0) await removeWalFile(this.writer.file, this.walDir);
    await Promise.all([this.indexer.close(), this.sealer.close()]);
    this.index.close();
    this.opts.unlock();
  }
}

/**
 * Replays the WAL left by an earlier run (clean or killed): records already sealed are
 * dropped, the rest are checked (hash chain, contiguous seqs) and queued to be sealed
 * file by file, so no acknowledged record is lost and none is sealed twice.
 */
async function recoverWal(walDir: string, sealed: SealedState, report: (message: string) => void): Promise<Batch[]> {
  const batches: Batch[] = [];
  let expectSeq = sealed.frontier.size;
  let prevHash = sealed.lastHash;
  for (const wal of await readWalFiles(walDir, report)) {
    const items: Pending[] = [];
    wal.lines.forEach((line, i) => {
      const r: SealedRecord = parseSealedLine(line, wal.file, i + 1);
      if (r.seq < sealed.frontier.size) return;
      const check = checkLine(line);
      if (r.seq !== expectSeq || r.prevHash !== prevHash || !check || check.actual !== check.claimed || check.claimed !== r.hash) {
        throw new FindingError(`WAL record seq ${r.seq} does not continue the log (expected seq ${expectSeq})`, {
          file: wal.file,
          line: i + 1,
        });
      }
      items.push({ seq: r.seq, id: r.id, line, hash: r.hash, time: r.time });
      expectSeq++;
      prevHash = r.hash;
    });
    if (items.length === 0) await removeWalFile(wal.file, walDir);
    else if (items.length !== wal.lines.length) throw new FindingError('WAL file is partly sealed', { file: wal.file });
    else batches.push({ walFile: wal.file, items });
  }
  return batches;
}

export async function openAuditLog(opts: AuditLogOptions): Promise<AuditLog> {
  validateOrigin(opts.origin);
  const sealEveryRecords = opts.sealEveryRecords ?? 10_000;
  const sealEveryMs = opts.sealEveryMs ?? 1_000;
  const readDurabilityMs = opts.readDurabilityMs ?? 20;
  const maxUnsealedRecords = opts.maxUnsealedRecords ?? 2 * sealEveryRecords;
  for (const [field, v] of Object.entries({ sealEveryRecords, sealEveryMs, readDurabilityMs, maxUnsealedRecords })) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${field} must be a positive integer`, { field });
  }
  if (maxUnsealedRecords < sealEveryRecords)
    throw new InputError('maxUnsealedRecords must be at least sealEveryRecords', { field: 'maxUnsealedRecords' });
  const unlock = lockLogDir(opts.dir, opts.onRecovery);
  try {
    return await openLocked(opts, { sealEveryRecords, sealEveryMs, readDurabilityMs, maxUnsealedRecords }, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function openLocked(
  opts: AuditLogOptions,
  timing: { sealEveryRecords: number; sealEveryMs: number; readDurabilityMs: number; maxUnsealedRecords: number },
  unlock: () => void,
): Promise<AuditLog> {
  const report = opts.onRecovery ?? (() => undefined);
  const sink = opts.sink ?? new LocalDirectorySink(opts.dir);
  await sink.open();
  const latest = await newestOwnCheckpoint(sink, opts.signer, report);
  if (latest && latest.origin !== opts.origin) {
    throw new InputError(`log in ${sink.location} has origin '${latest.origin}', not '${opts.origin}'`, { field: 'origin' });
  }
  checkWitness(opts.dir, latest, sink.location, report);
  await checkNewestSegment(sink, latest);
  const sealed = stateFromCheckpoint(latest, GENESIS_HASH);
  const indexFile = join(opts.dir, 'index.sqlite');
  const index = openIndex(indexFile, report);
  const indexer = backgroundIndexer(indexFile, index);
  const sealer = new WorkerPool<SegmentJob, EncodedSegment>('seal-worker.js', 1, encodeSegment);
  try {
    await syncIndex(sink, index);
    const walDir = join(opts.dir, 'wal');
    const recovered = await recoverWal(walDir, sealed, report);
    const nextSeq = sealed.frontier.size + recovered.reduce((n, b) => n + b.items.length, 0);
    const writer = await WalWriter.create(walDir, nextSeq);
    const log = new FileAuditLog(
      {
        dir: opts.dir,
        signer: opts.signer,
        origin: opts.origin,
        ...timing,
        unlock,
        ...(opts.onSealError ? { onSealError: opts.onSealError } : {}),
      },
      sink,
      index,
      indexer,
      sealer,
      walDir,
      writer,
      sealed,
      recovered,
    );
    if (recovered.length > 0) await log.flush();
    return log;
  } catch (err) {
    await Promise.all([indexer.close(), sealer.close()]);
    index.close();
    throw err;
  }
}
