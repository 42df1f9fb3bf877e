import { Worker } from 'node:worker_threads';
import { FindingError } from '../common/index.js';
import { AuditIndex } from './index-db.js';
import type { SealedRecord } from './record.js';
import { compiledWorker } from './threads.js';

/** One sealed segment for the index: its lines joined by `\n`, written by this log (already validated). */
export interface IndexJob {
  segment: string;
  text: string;
  firstSeq: number;
  treeSize: number;
}

/**
 * Adds a segment the writer just sealed. Refuses when the index is not exactly at the
 * segment's first seq, so the index never claims a tree size with records missing.
 */
export function addSealedSegment(index: AuditIndex, job: IndexJob): void {
  const synced = index.syncedTreeSize();
  if (synced >= job.treeSize) return;
  if (synced !== job.firstSeq) throw new FindingError(`index holds ${synced} records, not ${job.firstSeq}: it must be synced from the sink`);
  const rows = job.text.split('\n').map((line) => ({ record: JSON.parse(line) as SealedRecord, line }));
  index.addSegment(job.segment, rows, job.treeSize);
}

interface Reply {
  id: number;
  error?: string;
}

/**
 * Writes sealed segments into the SQLite index on a worker thread: the inserts (about a third
 * of the writer's CPU per record) leave the event loop that acknowledges appends. Jobs run in
 * order. Without a compiled worker (tests from sources) they run on the calling thread.
 */
export class BackgroundIndexer {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(
    private readonly dbFile: string,
    /** The log's own connection, used when there is no worker. */
    private readonly index: AuditIndex,
  ) {}

  add(job: IndexJob): Promise<void> {
    const url = compiledWorker('index-worker.js');
    if (!url) {
      try {
        addSealedSegment(this.index, job);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const worker = (this.worker ??= this.start(url));
    const id = this.nextId++;
    worker.ref(); // an unanswered job keeps the process alive; an idle worker does not
    worker.postMessage({ id, job });
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private start(url: URL): Worker {
    const worker = new Worker(url, { workerData: { dbFile: this.dbFile } });
    worker.on('message', ({ id, error }: Reply) => {
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      if (this.waiting.size === 0) worker.unref();
      if (error === undefined) w?.resolve();
      else w?.reject(new FindingError(`audit index: ${error}`));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined; // the next job starts a new worker
      for (const w of this.waiting.values()) w.reject(new FindingError(`audit index worker: ${err.message}`));
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    return worker;
  }

  /** Stops the worker; callers await their jobs first. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
