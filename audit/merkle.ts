import { createHash, hash } from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing (as Certificate Transparency, Trillian and Rekor):
 * leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), the empty tree hashes
 * to SHA-256(""). A tree of n leaves splits at the largest power of two below n.
 */

// One-shot hashing of a small concatenation is several times cheaper than a Hash object; the
// usual 32-byte inputs are copied into a reused buffer instead of a new one per hash (hashing
// is synchronous, so nothing else writes it meanwhile).
export function leafHash(data: Uint8Array): Buffer {
  if (data.length !== 32) return hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer');
  LEAF_INPUT.set(data, 1);
  return hash('sha256', LEAF_INPUT, 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return hash('sha256', NODE_INPUT, 'buffer');
}

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);
const LEAF_INPUT = Buffer.concat([LEAF_PREFIX, Buffer.alloc(32)]);
const NODE_INPUT = Buffer.concat([NODE_PREFIX, Buffer.alloc(64)]);

export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Hash of the subtree over leaves [lo, hi): the only thing proofs need from a tree. */
export type RangeHasher = (lo: number, hi: number) => Buffer;

/** RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionProof(index: number, size: number, hashRange: RangeHasher): Buffer[] {
  if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is outside a tree of size ${size}`);
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      path.push(hashRange(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(hashRange(lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/** RFC 9162 2.1.4.1: proof that the tree of size m is a prefix of the tree of size n. */
export function consistencyProof(m: number, n: number, hashRange: RangeHasher): Buffer[] {
  if (m < 1 || m > n) throw new RangeError(`no consistency proof from size ${m} to ${n}`);
  const out: Buffer[] = [];
  const sub = (mm: number, lo: number, hi: number, complete: boolean): void => {
    if (mm === hi - lo) {
      if (!complete) out.push(hashRange(lo, hi));
      return;
    }
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      sub(mm, lo, lo + k, complete);
      out.push(hashRange(lo + k, hi));
    } else {
      sub(mm - k, lo + k, hi, false);
      out.push(hashRange(lo, lo + k));
    }
  };
  sub(m, 0, n, true);
  return out;
}

const lsb = (x: number): boolean => x % 2 === 1;

/** RFC 9162's "right-shift fn and sn until LSB(fn) is set or fn is 0". */
function shiftWhileEven(fn: number, sn: number): [number, number] {
  while (!lsb(fn) && fn !== 0) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return [fn, sn];
}

/** RFC 9162 2.1.3.2: does `path` prove that `leaf` is leaf `index` of the tree with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, path: Uint8Array[], root: Uint8Array): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      [fn, sn] = shiftWhileEven(fn, sn);
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

/** RFC 9162 2.1.4.2: does `proof` show the tree of size m (oldRoot) is a prefix of size n (newRoot)? */
export function verifyConsistency(m: number, n: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: Uint8Array[]): boolean {
  if (m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && Buffer.from(oldRoot).equals(newRoot);
  const nodes = (m & (m - 1)) === 0 ? [oldRoot, ...proof] : [...proof];
  if (nodes.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (lsb(fn)) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = nodes[0]!;
  let sr: Uint8Array = nodes[0]!;
  for (const c of nodes.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      [fn, sn] = shiftWhileEven(fn, sn);
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(fr).equals(oldRoot) && Buffer.from(sr).equals(newRoot);
}

/**
 * The right edge of a growing tree: the roots of its perfect subtrees, largest first
 * (one per set bit of the size). Enough to extend the tree and compute its root without
 * keeping every leaf, so the writer stays O(log n) in memory.
 */
export class MerkleFrontier {
  private constructor(
    private size_: number,
    private readonly nodes: Buffer[],
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  static restore(size: number, nodes: Buffer[]): MerkleFrontier {
    let bits = 0;
    for (let s = size; s > 0; s = Math.floor(s / 2)) if (s % 2 === 1) bits++;
    if (bits !== nodes.length) throw new RangeError(`a frontier of size ${size} has ${bits} nodes, got ${nodes.length}`);
    return new MerkleFrontier(size, [...nodes]);
  }

  get size(): number {
    return this.size_;
  }

  /** The frontier nodes with the leaf range each one covers. */
  ranges(): Array<{ lo: number; hi: number; hash: Buffer }> {
    const out = [];
    let lo = 0;
    let i = 0;
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(this.size_, 1))); bit >= 1; bit /= 2) {
      if (Math.floor(this.size_ / bit) % 2 === 1) {
        out.push({ lo, hi: lo + bit, hash: this.nodes[i++]! });
        lo += bit;
      }
    }
    return out;
  }

  snapshot(): Buffer[] {
    return [...this.nodes];
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.size_, [...this.nodes]);
  }

  push(leaf: Buffer): void {
    let h = leaf;
    for (let s = this.size_; s % 2 === 1; s = Math.floor(s / 2)) h = nodeHash(this.nodes.pop()!, h);
    this.nodes.push(h);
    this.size_++;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let h = this.nodes[this.nodes.length - 1]!;
    for (let i = this.nodes.length - 2; i >= 0; i--) h = nodeHash(this.nodes[i]!, h);
    return h;
  }
}

/**
 * A range hasher over an old tree (known only by its frontier) extended by new leaves. RFC 9162
 * consistency proofs from any size m >= old.size to the extended tree only ask for subtrees
 * that are frontier nodes of the old tree, lie entirely among the new leaves, or (when m is
 * past the old size) are perfect subtrees straddling the old edge, which split into both kinds.
 * So a proof from a remembered size that is not a checkpoint needs only the frontier of the
 * checkpoint before it and the leaves after that checkpoint.
 */
export function frontierRangeHasher(old: MerkleFrontier, newLeaves: Buffer[]): RangeHasher {
  const known = new Map(old.ranges().map((r) => [`${r.lo}-${r.hi}`, r.hash]));
  const m = old.size;
  const tree = new MerkleTree(newLeaves);
  const hashRange = (lo: number, hi: number): Buffer => {
    if (lo >= m) return tree.rangeHash(lo - m, hi - m);
    const hash = known.get(`${lo}-${hi}`);
    if (hash) return hash;
    if (hi <= m || hi - lo < 2) throw new Error(`internal: subtree [${lo}, ${hi}) is neither old frontier nor new leaves`);
    const k = splitPoint(hi - lo);
    return nodeHash(hashRange(lo, lo + k), hashRange(lo + k, hi));
  };
  return hashRange;
}

/** A whole tree held in memory, level by level: O(log n) proofs after O(n) hashing. */
export class MerkleTree {
  private readonly levels: Buffer[][];

  constructor(leaves: Buffer[]) {
    this.levels = [leaves];
    for (let level = leaves; level.length > 1;) {
      const up: Buffer[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
      this.levels.push(up);
      level = up;
    }
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  rangeHash(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (n <= 0 || hi > this.size) throw new RangeError(`subtree [${lo}, ${hi}) outside a tree of size ${this.size}`);
    if ((n & (n - 1)) === 0 && lo % n === 0) {
      const level = Math.log2(n);
      const hash = this.levels[level]?.[lo / n];
      if (hash) return hash;
    }
    const k = splitPoint(n);
    return nodeHash(this.rangeHash(lo, lo + k), this.rangeHash(lo + k, hi));
  }

  root(size = this.size): Buffer {
    return size === 0 ? EMPTY_ROOT : this.rangeHash(0, size);
  }

  inclusionProof(index: number, size = this.size): Buffer[] {
    return inclusionProof(index, size, (lo, hi) => this.rangeHash(lo, hi));
  }

  consistencyProof(m: number, n = this.size): Buffer[] {
    return consistencyProof(m, n, (lo, hi) => this.rangeHash(lo, hi));
  }
}
