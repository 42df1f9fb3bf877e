import { errorMessage, FindingError } from '../common/index.js';
import { trustedKeyFromPublicKey, type LocalKeySigner } from '../signing/index.js';
import { verifyCheckpoint } from './checkpoint.js';
import { checkLine } from './chain.js';
import { checkpointKey, decodeSegment, listCheckpointKeys, readCheckpointMeta, segmentDigest, type CheckpointMeta } from './segment.js';
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
 * (torn by a power loss, cut short, missing), or whose checkpoint records another last
 * record hash than the segment's: appending on top would chain new records to a segment no
 * one can read, or to a hash no record has. The records are still in the checkpoint's hash; restoring the
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
  // The next record chains to this hash: an altered one would make it look broken (verify names the field).
  const last = (await decodeSegment(bytes, meta.segment.key)).at(-1);
  const actual = last === undefined ? undefined : checkLine(last)?.actual;
  if (actual !== meta.segment.lastHash)
    throw new FindingError(
      `refusing to append: checkpoint ${meta.treeSize} records segment.lastHash ${meta.segment.lastHash}, but its segment's last record (seq ${meta.segment.lastSeq}) hashes to ${actual ?? 'nothing'}: the checkpoint object was altered; restore it, then open the log again`,
      { file: `${sink.location}${sink.location.endsWith('/') ? '' : '/'}${checkpointKey(meta.treeSize)}` },
    );
}
