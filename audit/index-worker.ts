// Worker thread of backgroundIndexer: applies index jobs in the order they arrive.
import { workerData } from 'node:worker_threads';
import { AuditIndex } from './index-db.js';
import { addSealedSegment, type IndexJob } from './index-writer.js';
import { serveJobs } from './serve-jobs.js';

const index = AuditIndex.open((workerData as { dbFile: string }).dbFile);
serveJobs((job: IndexJob) => addSealedSegment(index, job));
