import { inclusionProof, MerkleTree, nodeHash } from './merkle.js';
import { recordLeaf } from './stored-line.js';

/**
 * The Merkle tree of the log kept in the index, so proofs take milliseconds at any size:
 * the roots of the perfect, aligned subtrees of BLOCK leaves and above are stored as the
 * records arrive (about one node per 128 records); anything smaller is hashed from the
 * records' hashes on demand. Nothing here is trusted: a proof built from these nodes is
 * checked against the signed checkpoint, so a tampered node only makes a proof fail.
 */
export const BLOCK_LEVEL = 8;
const BLOCK = 2 ** BLOCK_LEVEL;

export interface TreeStore {
  /** Record hashes (raw 32 bytes) of seqs [lo, hi), in seq order. */
  hashes(lo: number, hi: number): Buffer[];
  node(level: number, index: number): Buffer | undefined;
  putNode(level: number, index: number, hash: Buffer): void;
}

const leavesOf = (store: TreeStore, lo: number, hi: number): Buffer[] => store.hashes(lo, hi).map((h) => recordLeaf(h.toString('hex')));

/** Stores the nodes completed when the log grows from `from` to `to` records (their hashes already stored). */
export function extendTree(store: TreeStore, from: number, to: number): void {
  for (let level = BLOCK_LEVEL, width = BLOCK; width <= to; level++, width *= 2) {
    for (let index = Math.floor(from / width); (index + 1) * width <= to; index++) {
      if ((index + 1) * width <= from) continue;
      const hash =
        level === BLOCK_LEVEL
          ? new MerkleTree(leavesOf(store, index * width, (index + 1) * width)).root()
          : nodeHash(store.node(level - 1, 2 * index)!, store.node(level - 1, 2 * index + 1)!);
      store.putNode(level, index, hash);
    }
  }
}

/** The Merkle root of the records [lo, hi): stored nodes where they cover it, the records' hashes elsewhere. */
function rangeHash(store: TreeStore, lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n >= BLOCK && (n & (n - 1)) === 0 && lo % n === 0) {
    const stored = store.node(Math.log2(n), lo / n);
    if (stored) return stored;
  }
  if (n <= BLOCK) return new MerkleTree(leavesOf(store, lo, hi)).root();
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(rangeHash(store, lo, lo + k), rangeHash(store, lo + k, hi));
}

/** RFC 9162 audit path of `seq` in the tree of the first `size` records. */
export function indexInclusionProof(store: TreeStore, seq: number, size: number): Buffer[] {
  return inclusionProof(seq, size, (lo, hi) => rangeHash(store, lo, hi));
}

/** The root of the tree of the first `size` records, as the index holds them. */
export const indexTreeRoot = (store: TreeStore, size: number): Buffer => rangeHash(store, 0, size);
