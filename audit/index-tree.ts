import { inclusionProof, leafHash, MerkleTree, nodeHash } from './merkle.js';

/**
 * The Merkle tree of the log kept in the index, so proofs take milliseconds at any size:
 * the roots of the perfect, aligned subtrees of BLOCK leaves and above are stored as the
 * records arrive (about one node per 32 records); anything smaller is hashed from the
 * records' hashes on demand. Nothing here is trusted: a proof built from these nodes is
 * checked against the signed checkpoint, so a tampered node only makes a proof fail.
 *
 * BLOCK was 256: a proof then hashed the 255 other leaves of its block and their nodes (about
 * 500 SHA-256 calls and 8 queries, 10-20 ms of a 1 M-record prove at load 18); at 64 it hashes
 * 63. An index written with 256 lacks the nodes of levels 6 and 7: they are hashed from the
 * records where needed (extendTree, rangeHash), and `charter audit reindex` stores them.
 */
export const BLOCK_LEVEL = 6;
const BLOCK = 2 ** BLOCK_LEVEL;

export interface TreeStore {
  /** Record hashes (raw 32 bytes) of seqs [lo, hi), in seq order. */
  hashes(lo: number, hi: number): Buffer[];
  node(level: number, index: number): Buffer | undefined;
  putNode(level: number, index: number, hash: Buffer): void;
}

const leavesOf = (store: TreeStore, lo: number, hi: number): Buffer[] => store.hashes(lo, hi).map((h) => leafHash(h));

/** Stores the nodes completed when the log grows from `from` to `to` records (their hashes already stored). */
export function extendTree(store: TreeStore, from: number, to: number): void {
  for (let level = BLOCK_LEVEL, width = BLOCK; width <= to; level++, width *= 2) {
    for (let index = Math.floor(from / width); (index + 1) * width <= to; index++) {
      if ((index + 1) * width <= from) continue;
      const hash =
        level === BLOCK_LEVEL
          ? new MerkleTree(leavesOf(store, index * width, (index + 1) * width)).root()
          : nodeHash(childHash(store, level - 1, 2 * index), childHash(store, level - 1, 2 * index + 1));
      store.putNode(level, index, hash);
    }
  }
}

/** A stored node, or hashed from the records when the index was written with a larger BLOCK. */
const childHash = (store: TreeStore, level: number, index: number): Buffer =>
  store.node(level, index) ?? rangeHash(store, index * 2 ** level, (index + 1) * 2 ** level);

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
