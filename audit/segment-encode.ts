import { gzipSync } from 'node:zlib';
import { DirectoryBuilder, type SegmentDirectory } from './directory.js';
import { consistencyProof, frontierRangeHasher, MerkleFrontier } from './merkle.js';
import { recordLeaf, SUFFIX_LENGTH, SUFFIX_PREFIX } from './stored-line.js';

/**
 * Everything a seal computes from a batch's lines before it signs: the segment's bytes, its
 * tenant directory, the records' Merkle leaves, the new tree frontier, root and consistency
 * proof. It runs on a worker thread (seal-worker.ts), so the seal of 10,000 records no longer
 * stalls acknowledgements for tens of milliseconds; the writer only signs and stores. Kept
 * free of heavy imports so the worker starts quickly.
 */

/**
 * Lines per gzip member of a segment. A query or proof reads and gunzips one member (about
 * 70 KB of text) instead of the whole segment (about 10 MB at 10,000 records); the segment is
 * still one valid gzip file (RFC 1952 allows several members; gunzip, zlib and Athena read them
 * all). 64 lines cost about 10% in size against one member.
 */
export const BLOCK_RECORDS = 64;

/** Where one gzip member of a segment lies, and the index of its first line. */
export interface SegmentBlock {
  offset: number;
  length: number;
  firstLine: number;
}

export interface SegmentJob {
  /** The batch's stored lines joined by `\n` (no trailing newline), seqs from `firstSeq` on. */
  text: string;
  firstSeq: number;
  /** The sealed tree's frontier (MerkleFrontier.snapshot) before this batch. */
  frontier: Uint8Array[];
}

export interface EncodedSegment {
  bytes: Uint8Array;
  blocks: SegmentBlock[];
  /** The hash of the batch's last record, `sha256:<hex>`. */
  lastHash: string;
  /** Undefined when a line has no tenant or time (never for the writer's own lines). */
  directory: SegmentDirectory | undefined;
  /** The tree after the batch: its size, frontier, root, and the consistency proof from the size before. */
  treeSize: number;
  frontier: Uint8Array[];
  rootHash: Uint8Array;
  consistencyProof: Uint8Array[];
}

/** Deterministic: the same lines give the same bytes, so a re-seal after a crash rewrites identical objects. */
export function encodeSegment(job: SegmentJob): EncodedSegment {
  const text = Buffer.from(`${job.text}\n`, 'utf8');
  const directory = new DirectoryBuilder();
  const leaves: Buffer[] = [];
  const members: Buffer[] = [];
  const blocks: SegmentBlock[] = [];
  let lastHash = '';
  let offset = 0;
  let blockStart = 0;
  for (let start = 0, line = 0; start < text.length; line++) {
    const end = text.indexOf(0x0a, start);
    directory.addLine(text, start, end, job.firstSeq + line);
    lastHash = `sha256:${text.toString('latin1', end - SUFFIX_LENGTH + SUFFIX_PREFIX.length, end - 2)}`;
    leaves.push(recordLeaf(lastHash));
    start = end + 1;
    if ((line + 1) % BLOCK_RECORDS === 0 || start === text.length) {
      const member = gzipSync(text.subarray(blockStart, start));
      members.push(member);
      blocks.push({ offset, length: member.length, firstLine: line - (line % BLOCK_RECORDS) });
      offset += member.length;
      blockStart = start;
    }
  }
  const before = MerkleFrontier.restore(
    job.firstSeq,
    job.frontier.map((h) => Buffer.from(h)),
  );
  const after = before.clone();
  for (const leaf of leaves) after.push(leaf);
  return {
    bytes: Buffer.concat(members),
    blocks,
    lastHash,
    directory: directory.build(),
    treeSize: after.size,
    frontier: after.snapshot(),
    rootHash: after.root(),
    consistencyProof: job.firstSeq > 0 ? consistencyProof(job.firstSeq, after.size, frontierRangeHasher(before, leaves)) : [],
  };
}
