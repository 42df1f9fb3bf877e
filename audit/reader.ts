import { join } from 'node:path';
import type { AuditIndex } from './index-db.js';
import { openIndex, syncIndex } from './index-sync.js';
import { indexTreeRoot } from './index-tree.js';
import { readCheckpointAt, type CheckpointMeta } from './segment.js';
import { LocalDirectorySink } from './sinks/local.js';
import type { SegmentSink } from './sinks/sink.js';

export interface AuditReadOptions {
  /** Local state dir holding `index.sqlite` (and the segments with the default sink). */
  dir: string;
  /** Where the segments are; default a LocalDirectorySink on `dir`. */
  sink?: SegmentSink;
}

export interface AuditReader {
  index: AuditIndex;
  sink: SegmentSink;
  latest: CheckpointMeta | undefined;
  close(): void;
}

/** The sink the options name: `sink`, else the local directory sink on `dir`. */
export const readerSink = (opts: AuditReadOptions): SegmentSink => opts.sink ?? new LocalDirectorySink(opts.dir);

/** The checkpoint object for `treeSize` whose root is the one the index's records give (someone else's object at its key is passed over). */
export const indexedCheckpoint = (sink: SegmentSink, index: AuditIndex, treeSize: number): Promise<CheckpointMeta> => {
  const root = indexTreeRoot(index.treeStore(), treeSize).toString('base64');
  return readCheckpointAt(sink, treeSize, (meta) => meta.rootHash === root);
};

/** Opens the index and brings it up to the newest checkpoint in the sink. */
export async function openReader(opts: AuditReadOptions): Promise<AuditReader> {
  const sink = readerSink(opts);
  const index = openIndex(join(opts.dir, 'index.sqlite'));
  try {
    // the newest checkpoint of the log, not merely the highest key (foreign objects are skipped)
    const synced = await syncIndex(sink, index);
    const latest = synced > 0 ? await indexedCheckpoint(sink, index, synced) : undefined;
    return { index, sink, latest, close: () => index.close() };
  } catch (err) {
    index.close();
    throw err;
  }
}

/** Rebuilds the index from the segments alone (an unreadable index file is replaced). Returns the tree size it covers. */
export async function rebuildIndex(opts: AuditReadOptions): Promise<number> {
  const sink = readerSink(opts);
  const index = openIndex(join(opts.dir, 'index.sqlite'));
  try {
    index.reset();
    return await syncIndex(sink, index);
  } finally {
    index.close();
  }
}
