import { rmSync } from 'node:fs';
import { errorMessage, FindingError, parseJson } from '../common/index.js';
import { AuditIndex } from './index-db.js';
import { SealedRecord } from './record.js';
import { decodeSegmentBlocks, listCheckpointKeys, readCheckpointMeta, type CheckpointMeta } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';

/** Parses one stored line into a sealed record; a bad line is a finding naming segment and line. */
export function parseSealedLine(line: string, segment: string, lineNo: number): SealedRecord {
  const parsed = SealedRecord.safeParse(parseJson(line, `${segment}:${lineNo}`));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FindingError(`not a sealed audit record: ${issue.message}`, { file: segment, line: lineNo, field: issue.path.join('.') });
  }
  return parsed.data;
}

/** Why a checkpoint object is not the next one of the log after tree size `synced`, or null when it is. */
async function notNext(sink: SegmentSink, key: string, treeSize: number, synced: number) {
  let meta: CheckpointMeta;
  try {
    meta = await readCheckpointMeta(sink, key);
  } catch (err) {
    return { why: errorMessage(err) };
  }
  if (meta.treeSize !== treeSize) return { why: `it claims tree size ${meta.treeSize}` };
  if (meta.segment.firstSeq !== synced || (meta.previous?.treeSize ?? 0) !== synced)
    return { why: `it does not continue the log at tree size ${synced}` };
  return { meta };
}

/**
 * Brings the index up to the newest checkpoint in the sink, reading only the segments it
 * does not have yet. Returns the tree size it now covers. Only checkpoints that continue the
 * log count: any other object under `checkpoints/` was not written by this log; it is
 * skipped (and named to `onForeign`), never a reason to stop, and `verify` reports it.
 */
export async function syncIndex(
  sink: SegmentSink,
  index: AuditIndex,
  onForeign: (key: string, why: string) => void = () => undefined,
): Promise<number> {
  let synced = index.syncedTreeSize();
  for (const { key, treeSize } of await listCheckpointKeys(sink)) {
    if (treeSize <= synced) continue;
    const next = await notNext(sink, key, treeSize, synced);
    if (!next.meta) {
      onForeign(key, next.why);
      continue;
    }
    const { meta } = next;
    const bytes = await sink.get(meta.segment.key);
    if (!bytes) throw new FindingError('segment named by a checkpoint is missing', { file: meta.segment.key });
    const { lines, blocks } = await decodeSegmentBlocks(bytes, meta.segment.key);
    index.addSegment(
      meta.segment.key,
      lines.map((line, i) => parseSealedLine(line, meta.segment.key, i + 1)),
      blocks,
      treeSize,
    );
    synced = treeSize;
  }
  return synced;
}

/** SQLite's answer to a file that is not (or no longer) a database: SQLITE_CORRUPT, SQLITE_NOTADB. */
const isCorrupt = (err: unknown): boolean => [11, 26].includes((err as { errcode?: number }).errcode ?? 0);

export function removeIndexFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

/**
 * Opens the index; one that SQLite cannot read (a power loss on a filesystem that does not
 * keep its promises, a stray write) is deleted and rebuilt from the sealed segments, which
 * are the only source of truth, and `onRecovery` says so.
 */
export function openIndex(file: string, onRecovery: (message: string) => void = () => undefined): AuditIndex {
  try {
    return AuditIndex.open(file);
  } catch (err) {
    if (!isCorrupt(err)) throw err;
    removeIndexFiles(file);
    onRecovery(`${file}: not a readable SQLite database (${errorMessage(err)}): deleted, rebuilt from the sealed segments`);
    return AuditIndex.open(file);
  }
}
