import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FindingError } from '../common/index.js';

/**
 * The compiled worker module `file` (e.g. `index-worker.js`) beside this one, or undefined
 * when running from TypeScript sources (vitest): Node 20 cannot start a worker on a `.ts`
 * file, so the pool then runs jobs on the calling thread, through the same function.
 */
function compiledWorker(file: string): URL | undefined {
  const url = new URL(`./${file}`, import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

interface Reply<R> {
  id: number;
  result?: R;
  error?: string;
}

interface Slot<R> {
  worker: Worker;
  waiting: Map<number, { resolve: (r: R) => void; reject: (err: Error) => void }>;
}

/**
 * A fixed set of worker threads running one job function (the worker module calls
 * `serveJobs` from serve-jobs.ts with it). A job goes to the worker with the fewest jobs waiting; each worker
 * runs its jobs in the order they came, so a pool of one keeps jobs in order. An idle pool
 * does not keep the process alive. Workers start on first use; one that dies is replaced.
 */
export class WorkerPool<J, R> {
  private readonly url: URL | undefined;
  private readonly slots: Array<Slot<R> | undefined>;
  /** Jobs not answered yet, including those whose callers stopped waiting for them. */
  private readonly inFlight = new Set<Promise<R>>();
  private nextId = 0;

  constructor(
    workerFile: string,
    size: number,
    /** The same function the worker runs, for when there is no compiled worker. */
    private readonly inline: (job: J) => R,
    private readonly workerData: unknown = undefined,
  ) {
    this.url = compiledWorker(workerFile);
    this.slots = Array.from({ length: Math.max(1, size) }, () => undefined);
  }

  run(job: J): Promise<R> {
    if (!this.url) return Promise.resolve().then(() => this.inline(job));
    const index = this.slots.reduce<number>((best, s, i) => ((s?.waiting.size ?? 0) < (this.slots[best]?.waiting.size ?? 0) ? i : best), 0);
    const slot = (this.slots[index] ??= this.start(this.url, index));
    const id = this.nextId++;
    slot.worker.ref(); // an unanswered job keeps the process alive
    slot.worker.postMessage({ id, job });
    const answer = new Promise<R>((resolve, reject) => slot.waiting.set(id, { resolve, reject }));
    this.inFlight.add(answer);
    const done = (): boolean => this.inFlight.delete(answer);
    answer.then(done, done);
    return answer;
  }

  private start(url: URL, index: number): Slot<R> {
    const slot: Slot<R> = { worker: new Worker(url, { workerData: this.workerData }), waiting: new Map() };
    slot.worker.on('message', ({ id, result, error }: Reply<R>) => {
      const w = slot.waiting.get(id);
      slot.waiting.delete(id);
      if (slot.waiting.size === 0) slot.worker.unref();
      if (error === undefined) w?.resolve(result as R);
      else w?.reject(new FindingError(error));
    });
    const fail = (err: Error): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const w of slot.waiting.values()) w.reject(new FindingError(`worker thread ${url.pathname}: ${err.message}`));
      slot.waiting.clear();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    return slot;
  }

  /**
   * Stops the workers once every job is answered, also those no caller awaits any more (verify
   * drops a job whose start turned out wrong): terminating a worker in the middle of a job
   * could leave its exit unreported, and the process then ended with nothing keeping it alive
   * and the close never settled (exit 13, "unsettled top-level await"; 5 to 7 of 40 runs of
   * `verify` on a log with a truncated checkpoint at load 16-17, none after).
   */
  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    const running = this.slots.splice(0, this.slots.length, ...this.slots.map(() => undefined));
    await Promise.all(running.map((s) => s?.worker.terminate()));
  }
}
