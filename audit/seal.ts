import type { LocalKeySigner } from '../signing/index.js';
import { signCheckpoint } from './checkpoint.js';
import { directoryLine, directoryOfLines } from './directory.js';
import { recordLeaf } from './stored-line.js';
import { consistencyProof, frontierRangeHasher, MerkleFrontier } from './merkle.js';
import { checkpointKey, encodeSegment, segmentDigest, segmentKey, type CheckpointMeta, type SegmentBlock } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';

/** What the writer knows about the sealed part of the log. */
export interface SealedState {
  frontier: MerkleFrontier;
  lastHash: string;
  previous: { treeSize: number; rootHash: string } | null;
}

export interface SealBatch {
  /** Sealed-record lines, contiguous seqs starting at the frontier's size. */
  lines: string[];
  hashes: string[];
  firstTime: string;
}

const b64 = (b: Buffer): string => b.toString('base64');

/**
 * Writes one segment and its checkpoint. The segment goes first and the checkpoint last:
 * the checkpoint is the commit point, and re-sealing the same batch after a crash writes
 * byte-identical objects (gzip and Ed25519 are deterministic; nothing carries a clock).
 */
export async function sealBatch(
  sink: SegmentSink,
  state: SealedState,
  batch: SealBatch,
  origin: string,
  signer: LocalKeySigner,
): Promise<{ meta: CheckpointMeta; state: SealedState; blocks: SegmentBlock[] }> {
  const firstSeq = state.frontier.size;
  const lastSeq = firstSeq + batch.lines.length - 1;
  const leaves = batch.hashes.map(recordLeaf);
  const frontier = state.frontier.clone();
  for (const leaf of leaves) frontier.push(leaf);
  const rootHash = frontier.root();
  const proof = firstSeq > 0 ? consistencyProof(firstSeq, frontier.size, frontierRangeHasher(state.frontier, leaves)) : [];
  const { bytes, blocks } = await encodeSegment(batch.lines);
  const key = segmentKey(firstSeq, lastSeq, batch.firstTime);
  const lastHash = batch.hashes[batch.hashes.length - 1]!;
  // Sealed lines are the log's own output, so each has a tenant and a time.
  const directory = directoryOfLines(batch.lines, firstSeq)!;
  const meta: CheckpointMeta = {
    format: 'charter.audit.checkpoint/v1',
    origin,
    treeSize: frontier.size,
    rootHash: b64(rootHash),
    segment: { key, firstSeq, lastSeq, sha256: segmentDigest(bytes), lastHash },
    previous: state.previous,
    consistencyProof: proof.map(b64),
    frontier: frontier.snapshot().map(b64),
    directory,
    note: signCheckpoint({ origin, treeSize: frontier.size, rootHash, extensions: [directoryLine(firstSeq, lastSeq, directory)] }, signer),
  };
  await sink.put(key, bytes);
  await sink.put(checkpointKey(meta.treeSize), Buffer.from(JSON.stringify(meta, null, 2) + '\n', 'utf8'));
  return { meta, blocks, state: { frontier, lastHash, previous: { treeSize: meta.treeSize, rootHash: meta.rootHash } } };
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
