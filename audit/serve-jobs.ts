import { parentPort } from 'node:worker_threads';

/**
 * The worker side of a WorkerPool (threads.ts): answers each job with `handle(job)` or its
 * error message. Separate from the pool and free of imports, so workers start quickly.
 */
export function serveJobs<J, R>(handle: (job: J) => R): void {
  parentPort!.on('message', ({ id, job }: { id: number; job: J }) => {
    try {
      parentPort!.postMessage({ id, result: handle(job) });
    } catch (err) {
      parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
