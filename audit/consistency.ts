import { errorMessage, FindingError } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint.js';
import { consistencyProof, frontierRangeHasher, MerkleFrontier, verifyConsistency } from './merkle.js';
import { checkpointKey, decodeSegment, listCheckpointKeys, readCheckpointAt, readCheckpointMeta, type CheckpointMeta } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';
import { recordLeaf } from './stored-line.js';

/**
 * Consistency from what someone remembered (a witness's last cosigned tree, an auditor's
 * anchor) to the log's newest checkpoint, at any remembered tree size: the proof is computed
 * from the sealed log (the frontier of the last checkpoint at or below that size and the
 * records sealed after it) and checked with RFC 9162's verification against the remembered
 * root. Nothing read from the sink is trusted: a rewritten log only yields a proof that fails.
 */

/** A tree someone saw: its size and root hash. */
export interface TreeHead {
  treeSize: number;
  rootHash: Buffer;
}

const b64 = (h: Buffer): string => h.toString('base64');

/** The Merkle leaves of a checkpoint's segment, from the hashes its stored lines carry. */
async function segmentLeaves(sink: SegmentSink, meta: CheckpointMeta): Promise<Buffer[]> {
  const bytes = await sink.get(meta.segment.key);
  if (!bytes) throw new FindingError(`segment ${meta.segment.key} is missing`, { file: meta.segment.key });
  const lines = await decodeSegment(bytes, meta.segment.key);
  if (lines.length !== meta.segment.lastSeq - meta.segment.firstSeq + 1)
    throw new FindingError(
      `segment ${meta.segment.key} holds ${lines.length} records, its checkpoint says ${meta.segment.lastSeq - meta.segment.firstSeq + 1}`,
      {
        file: meta.segment.key,
      },
    );
  // a stored line ends in `,"hash":"sha256:<64 hex>"}`: the leaf is taken from the claimed hash, the proof checks it
  return lines.map((l) => recordLeaf(l.slice(-66, -2)));
}

/**
 * RFC 9162 consistency proof from size `m` to the checkpoint `head`, built from the sink:
 * walks back along the checkpoints' links to the last one at or below `m`.
 */
export async function proveConsistencyFromSink(sink: SegmentSink, m: number, head: CheckpointMeta): Promise<Buffer[]> {
  if (m === head.treeSize) return [];
  const after: CheckpointMeta[] = [];
  let at: CheckpointMeta | undefined = head;
  while (at && at.treeSize > m) {
    after.unshift(at);
    const previous: CheckpointMeta['previous'] = at.previous;
    at = previous ? await readCheckpointAt(sink, previous.treeSize, (meta) => meta.rootHash === previous.rootHash) : undefined;
  }
  const base = at
    ? MerkleFrontier.restore(
        at.treeSize,
        at.frontier.map((h) => Buffer.from(h, 'base64')),
      )
    : MerkleFrontier.empty();
  const leaves: Buffer[] = [];
  for (const meta of after) {
    if (meta.segment.firstSeq !== base.size + leaves.length)
      throw new FindingError(`${checkpointKey(meta.treeSize)} does not continue the log at seq ${base.size + leaves.length}`);
    leaves.push(...(await segmentLeaves(sink, meta)));
  }
  return consistencyProof(m, head.treeSize, frontierRangeHasher(base, leaves));
}

/**
 * Why the log's newest checkpoint `head` cannot be a later state of the tree `seen`, or
 * undefined when it is: a rollback (smaller), a fork at the same size (another root), or no
 * valid consistency proof (the history before `seen.treeSize` was rewritten).
 */
export async function inconsistency(sink: SegmentSink, seen: TreeHead, head: CheckpointMeta, seenAs: string): Promise<string | undefined> {
  const was = `${seenAs} (tree size ${seen.treeSize}, root ${b64(seen.rootHash)})`;
  const now = `the log's newest checkpoint (tree size ${head.treeSize}, root ${head.rootHash})`;
  if (head.treeSize < seen.treeSize) return `${now} is smaller than ${was}: the log was truncated or rolled back`;
  if (head.treeSize === seen.treeSize)
    return head.rootHash === b64(seen.rootHash) ? undefined : `${now} has another root than ${was}: the log was forked`;
  let proof: Buffer[];
  try {
    proof = await proveConsistencyFromSink(sink, seen.treeSize, head);
  } catch (err) {
    return `no consistency proof from ${was} to ${now} can be built from the log: ${(err as Error).message}`;
  }
  return verifyConsistency(seen.treeSize, head.treeSize, seen.rootHash, Buffer.from(head.rootHash, 'base64'), proof)
    ? undefined
    : `${now} is not consistent with ${was}: the log was forked or its history rewritten`;
}

/** The newest checkpoint object that carries a valid signature by the log key; others above it are passed over. */
export async function newestSignedCheckpoint(
  sink: SegmentSink,
  logKeys: TrustedKeysFile,
): Promise<{ meta: CheckpointMeta; cp: VerifiedCheckpoint; skipped: string[] }> {
  const skipped: string[] = [];
  for (const { key } of (await listCheckpointKeys(sink)).reverse()) {
    try {
      const meta = await readCheckpointMeta(sink, key);
      const cp = verifyCheckpoint(meta.note, logKeys, key);
      if (cp.treeSize !== meta.treeSize || cp.rootHash.toString('base64') !== meta.rootHash)
        throw new FindingError(`${key}: the signed note does not match the object's tree size or root`);
      return { meta, cp, skipped };
    } catch (err) {
      skipped.push(`${key}: ${errorMessage(err)}`);
    }
  }
  throw new FindingError(`${sink.location} holds no checkpoint signed by the log's key`, {}, skipped);
}

/**
 * Where several objects claim one tree size (someone else's object at a key the writer then
 * stored beside, see seal.ts), keeps the one signed by the log's key, or the first when none
 * is (whoever reads it reports it); the others are passed over with the reason.
 */
export async function oneCheckpointPerTreeSize<T extends { key: string; treeSize: number }>(
  sink: SegmentSink,
  entries: T[],
  logKeys: TrustedKeysFile,
): Promise<{ kept: T[]; passedOver: Array<{ entry: T; why: string; kept: T }> }> {
  const kept: T[] = [];
  const passedOver: Array<{ entry: T; why: string; kept: T }> = [];
  for (let i = 0, j = 0; i < entries.length; i = j) {
    while (j < entries.length && entries[j]!.treeSize === entries[i]!.treeSize) j++; // entries are in tree-size order
    const group = entries.slice(i, j);
    if (group.length === 1) {
      kept.push(group[0]!);
      continue;
    }
    const why = new Map<T, string>();
    let chosen: T | undefined;
    for (const e of group) {
      try {
        const meta = await readCheckpointMeta(sink, e.key);
        const cp = verifyCheckpoint(meta.note, logKeys, e.key);
        if (cp.treeSize !== e.treeSize || meta.treeSize !== e.treeSize || cp.rootHash.toString('base64') !== meta.rootHash)
          throw new FindingError('its signed note does not match its tree size or root');
        if (chosen) why.set(e, `a second object signed by the log's key for tree size ${e.treeSize}`);
        else chosen = e;
      } catch (err) {
        why.set(e, errorMessage(err));
      }
    }
    chosen ??= group[0]!;
    kept.push(chosen);
    for (const e of group) if (e !== chosen) passedOver.push({ entry: e, why: why.get(e)!, kept: chosen });
  }
  return { kept, passedOver };
}
