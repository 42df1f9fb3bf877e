import { FindingError, parseJson } from '../common/index.js';
import type { AuditIndex } from './index-db.js';
import { SealedRecord } from './record.js';
import { decodeSegment, listCheckpointKeys, readCheckpointMeta } from './segment.js';
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

/**
 * Brings the index up to the newest checkpoint in the sink, reading only the segments it
 * does not have yet. Returns the tree size it now covers.
 */
export async function syncIndex(sink: SegmentSink, index: AuditIndex): Promise<number> {
  let synced = index.syncedTreeSize();
  for (const { key, treeSize } of await listCheckpointKeys(sink)) {
    if (treeSize <= synced) continue;
    const meta = await readCheckpointMeta(sink, key);
    const bytes = await sink.get(meta.segment.key);
    if (!bytes) throw new FindingError('segment named by a checkpoint is missing', { file: meta.segment.key });
    const lines = await decodeSegment(bytes, meta.segment.key);
    index.addSegment(
      meta.segment.key,
      lines.map((line, i) => ({ record: parseSealedLine(line, meta.segment.key, i + 1) })),
      treeSize,
    );
    synced = treeSize;
  }
  return synced;
}
