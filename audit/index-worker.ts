// Worker thread of BackgroundIndexer: applies index jobs in the order they arrive.
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../common/index.js';
import { AuditIndex } from './index-db.js';
import { addSealedSegment, type IndexJob } from './index-writer.js';

const index = AuditIndex.open((workerData as { dbFile: string }).dbFile);
parentPort!.on('message', ({ id, job }: { id: number; job: IndexJob }) => {
  try {
    addSealedSegment(index, job);
    parentPort!.postMessage({ id });
  } catch (err) {
    parentPort!.postMessage({ id, error: errorMessage(err) });
  }
});
