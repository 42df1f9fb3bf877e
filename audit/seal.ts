import type { LocalKeySigner } from '../signing/index.js';
import { signCheckpoint } from './checkpoint.js';
import { directoryLine } from './directory.js';
import { MerkleFrontier } from './merkle.js';
import { alternativeKey, checkpointKey, segmentDigest, segmentKey, type CheckpointMeta } from './segment.js';
import type { EncodedSegment } from './segment-encode.js';
import { OccupiedKeyError, type SegmentSink } from './sinks/sink.js';

/** What the writer knows about the sealed part of the log. */
export interface SealedState {
  frontier: MerkleFrontier;
  lastHash: string;
  previous: { treeSize: number; rootHash: string } | null;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/**
 * Stores `body` at `key`, or at its first alternative that no other object occupies: an object
 * someone else put where the log writes next is passed over (verify reports it), never a
 * reason to stop sealing. Deterministic, so re-sealing after a crash finds its own object
 * again (identical bytes) at the same alternative. Returns the key used.
 */
async function putAtFreeKey(sink: SegmentSink, key: string, body: Uint8Array): Promise<string> {
  for (let n = 0; ; n++) {
    const at = alternativeKey(key, n);
    try {
      await sink.put(at, body);
      return at;
    } catch (err) {
      if (!(err instanceof OccupiedKeyError)) throw err;
    }
  }
}

/**
 * Writes one segment and its checkpoint from a batch encoded by `encodeSegment` (on the seal
 * worker, or inline) against `state`. The segment goes first (the checkpoint names the key it
 * took) and the checkpoint last: the checkpoint is the commit point, and re-sealing the same
 * batch after a crash writes byte-identical objects at the same keys (gzip and Ed25519 are
 * deterministic; nothing carries a clock).
 */
export async function sealBatch(
  sink: SegmentSink,
  state: SealedState,
  encoded: EncodedSegment,
  firstTime: string,
  origin: string,
  signer: LocalKeySigner,
): Promise<{ meta: CheckpointMeta; state: SealedState }> {
  const firstSeq = state.frontier.size;
  const lastSeq = encoded.treeSize - 1;
  const key = await putAtFreeKey(sink, segmentKey(firstSeq, lastSeq, firstTime), encoded.bytes);
  const rootHash = Buffer.from(encoded.rootHash);
  // Sealed lines are the log's own output, so each has a tenant and a time.
  const directory = encoded.directory!;
  const meta: CheckpointMeta = {
    format: 'charter.audit.checkpoint/v1',
    origin,
    treeSize: encoded.treeSize,
    rootHash: b64(rootHash),
    segment: { key, firstSeq, lastSeq, sha256: segmentDigest(encoded.bytes), lastHash: encoded.lastHash },
    previous: state.previous,
    consistencyProof: encoded.consistencyProof.map(b64),
    frontier: encoded.frontier.map(b64),
    directory,
    note: signCheckpoint(
      { origin, treeSize: encoded.treeSize, rootHash, extensions: [directoryLine(firstSeq, lastSeq, directory)] },
      signer,
    ),
  };
  await putAtFreeKey(sink, checkpointKey(meta.treeSize), Buffer.from(JSON.stringify(meta, null, 2) + '\n', 'utf8'));
  const frontier = MerkleFrontier.restore(
    encoded.treeSize,
    encoded.frontier.map((h) => Buffer.from(h)),
  );
  return { meta, state: { frontier, lastHash: encoded.lastHash, previous: { treeSize: meta.treeSize, rootHash: meta.rootHash } } };
}

export function stateFromCheckpoint(meta: CheckpointMeta | undefined, genesisHash: string): SealedState {
  if (!meta) return { frontier: MerkleFrontier.empty(), lastHash: genesisHash, previous: null };
  return {
    frontier: MerkleFrontier.restore(
      meta.treeSize,
      meta.frontier.map((h) => Buffer.from(h, 'base64')),
    ),
    lastHash: meta.segment.lastHash,
    previous: { treeSize: meta.treeSize, rootHash: meta.rootHash },
  };
}
