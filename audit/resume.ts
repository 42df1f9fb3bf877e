import { errorMessage, FindingError } from '../common/index.js';
import { trustedKeyFromPublicKey, type LocalKeySigner } from '../signing/index.js';
import { verifyCheckpoint } from './checkpoint.js';
import { listCheckpointKeys, readCheckpointMeta, segmentDigest, type CheckpointMeta } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';

/**
 * Where the writer resumes: the newest checkpoint object that this writer's key signed for
 * the tree size its key names. Anything else under `checkpoints/` (an object someone else
 * put there, locked or not) was not written by this log: it is reported to `onNotice` and
 * passed over, never a reason to stop writing; `verify` reports it as a finding.
 */
export async function newestOwnCheckpoint(
  sink: SegmentSink,
  signer: LocalKeySigner,
  onNotice: (message: string) => void,
): Promise<CheckpointMeta | undefined> {
  const own = { keys: [trustedKeyFromPublicKey(signer.publicKey, 'this writer', ['audit-checkpoint'])] };
  const keys = await listCheckpointKeys(sink);
  for (const { key, treeSize } of keys.reverse()) {
    let meta: CheckpointMeta;
    try {
      meta = await readCheckpointMeta(sink, key);
      const signed = verifyCheckpoint(meta.note, own, key);
      if (meta.treeSize !== treeSize || signed.treeSize !== treeSize || signed.rootHash.toString('base64') !== meta.rootHash)
        throw new Error(`its tree size or root does not match its key and signed note`);
    } catch (err) {
      onNotice(`${key} in ${sink.location}: passed over, not a checkpoint this writer sealed (${errorMessage(err)}); verify reports it`);
      continue;
    }
    return meta;
  }
  return undefined;
}

/**
 * Refuses to continue a log whose newest sealed segment is not what its checkpoint recorded
 * (torn by a power loss, cut short, missing): appending on top would chain new records to a
 * segment no one can read. The records are still in the checkpoint's hash; restoring the
 * segment (from a backup or replica) lets the writer continue.
 */
export async function checkNewestSegment(sink: SegmentSink, meta: CheckpointMeta | undefined): Promise<void> {
  if (!meta) return;
  const bytes = await sink.get(meta.segment.key);
  const found = bytes ? `${bytes.length} bytes with ${segmentDigest(bytes)}` : 'missing';
  if (!bytes || segmentDigest(bytes) !== meta.segment.sha256)
    throw new FindingError(
      `refusing to append: the newest sealed segment (seqs ${meta.segment.firstSeq}-${meta.segment.lastSeq}) is torn or missing: checkpoint ${meta.treeSize} recorded ${meta.segment.sha256}, found ${found}; restore the segment, then open the log again`,
      { file: `${sink.location}${sink.location.endsWith('/') ? '' : '/'}${meta.segment.key}` },
    );
}
