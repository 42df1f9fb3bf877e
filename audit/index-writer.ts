import { FindingError } from '../common/index.js';
import type { AuditIndex } from './index-db.js';
import type { SealedRecord } from './record.js';
import type { SegmentBlock } from './segment-encode.js';
import { WorkerPool } from './threads.js';

/** One sealed segment for the index: its lines joined by `\n`, written by this log (already validated). */
export interface IndexJob {
  segment: string;
  text: string;
  /** The segment's gzip members, as sealed. */
  blocks: SegmentBlock[];
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
  if (synced !== job.firstSeq)
    throw new FindingError(`index holds ${synced} records, not ${job.firstSeq}: it must be synced from the sink`);
  const records = job.text.split('\n').map((line) => JSON.parse(line) as SealedRecord);
  index.addSegment(job.segment, records, job.blocks, job.treeSize);
}

/**
 * Writes sealed segments into the SQLite index on one worker thread, in order: the inserts
 * (about a third of the writer's CPU per record) leave the event loop that acknowledges
 * appends. Without a compiled worker (tests from sources) they use the log's own connection.
 */
export function backgroundIndexer(dbFile: string, index: AuditIndex): WorkerPool<IndexJob, void> {
  return new WorkerPool<IndexJob, void>('index-worker.js', 1, (job) => addSealedSegment(index, job), { dbFile });
}
