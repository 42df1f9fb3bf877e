import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  frontierRangeHasher,
  leafHash,
  MerkleFrontier,
  MerkleTree,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

describe('RFC 6962 Merkle tree', () => {
  it('matches the Certificate Transparency reference vectors', () => {
    // inputs and roots from RFC 6962 test data (certificate-transparency merkle_tree_test)
    const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
      Buffer.from(h, 'hex'),
    );
    const tree = new MerkleTree(inputs.map(leafHash));
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(tree.root(1).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(tree.root(8).toString('hex')).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  it('the frontier computes the same root as the whole tree at every size', () => {
    const all = leaves(70);
    const tree = new MerkleTree(all);
    const f = MerkleFrontier.empty();
    for (let n = 1; n <= all.length; n++) {
      f.push(all[n - 1]!);
      expect(f.root().equals(tree.root(n))).toBe(true);
    }
    const restored = MerkleFrontier.restore(f.size, f.snapshot());
    expect(restored.root().equals(f.root())).toBe(true);
    expect(() => MerkleFrontier.restore(70, [])).toThrow(/frontier of size 70/);
  });

  it('inclusion proofs verify for every leaf and fail when anything changes', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 33]) {
      const tree = new MerkleTree(leaves(n));
      for (let i = 0; i < n; i++) {
        const path = tree.inclusionProof(i);
        expect(verifyInclusion(i, n, tree.rangeHash(i, i + 1), path, tree.root())).toBe(true);
        if (n > 1) {
          expect(verifyInclusion((i + 1) % n, n, tree.rangeHash(i, i + 1), path, tree.root())).toBe(false);
          const bad = path.map((p, j) => (j === 0 ? createHash('sha256').update(p).digest() : p));
          expect(verifyInclusion(i, n, tree.rangeHash(i, i + 1), bad, tree.root())).toBe(false);
        }
      }
    }
  });

  it('consistency proofs verify between all sizes, also when built from the old frontier only', () => {
    const all = leaves(40);
    const tree = new MerkleTree(all);
    for (let m = 1; m <= 40; m++) {
      const old = MerkleFrontier.empty();
      all.slice(0, m).forEach((l) => old.push(l));
      for (let n = m; n <= 40; n++) {
        const proof = tree.consistencyProof(m, n);
        expect(verifyConsistency(m, n, tree.root(m), tree.root(n), proof)).toBe(true);
        const fromFrontier = consistencyProof(m, n, frontierRangeHasher(old, all.slice(m, n)));
        expect(fromFrontier.map((h) => h.toString('hex'))).toEqual(proof.map((h) => h.toString('hex')));
        if (n > m) expect(verifyConsistency(m, n, tree.root(m), leafHash(Buffer.from('another root')), proof)).toBe(false);
      }
    }
    // from a remembered size m that is not a checkpoint: the frontier of an earlier checkpoint c plus the leaves after it
    for (let c = 0; c <= 40; c += 7) {
      const frontier = MerkleFrontier.empty();
      all.slice(0, c).forEach((l) => frontier.push(l));
      for (let m = Math.max(c, 1); m <= 40; m++) {
        const fromEarlier = consistencyProof(m, 40, frontierRangeHasher(frontier, all.slice(c)));
        expect(fromEarlier.map((h) => h.toString('hex'))).toEqual(tree.consistencyProof(m, 40).map((h) => h.toString('hex')));
      }
    }
    // a rewritten history is not consistent
    const forked = new MerkleTree([...all.slice(0, 10), leafHash(Buffer.from('forged')), ...all.slice(11)]);
    expect(verifyConsistency(10, 40, tree.root(10), forked.root(40), forked.consistencyProof(10, 40))).toBe(true);
    expect(verifyConsistency(11, 40, tree.root(11), forked.root(40), forked.consistencyProof(11, 40))).toBe(false);
  });
});
