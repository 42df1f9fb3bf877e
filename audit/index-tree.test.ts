import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLOCK_LEVEL, extendTree, indexInclusionProof, indexTreeRoot, type TreeStore } from './index-tree.js';
import { leafHash, MerkleTree } from './merkle.js';

/** A TreeStore over memory: record hashes by seq, nodes by level and index. */
function memoryStore(records: Buffer[]): TreeStore & { nodes: Map<string, Buffer> } {
  const nodes = new Map<string, Buffer>();
  return {
    nodes,
    hashes: (lo, hi) => records.slice(lo, hi),
    node: (level, index) => nodes.get(`${level}/${index}`),
    putNode: (level, index, hash) => void nodes.set(`${level}/${index}`, hash),
  };
}

const records = Array.from({ length: 1500 }, (_, i) => createHash('sha256').update(`record ${i}`).digest());
const reference = new MerkleTree(records.map((h) => leafHash(h)));

/** Every root and a spread of proofs up to `size` match a tree built from all the leaves. */
function expectSameTree(store: TreeStore, size: number): void {
  expect(indexTreeRoot(store, size).equals(reference.root(size))).toBe(true);
  for (let seq = 0; seq < size; seq += 37) {
    const proof = indexInclusionProof(store, seq, size).map((h) => h.toString('base64'));
    expect(proof).toEqual(reference.inclusionProof(seq, size).map((h) => h.toString('base64')));
  }
}

describe('the Merkle nodes kept in the index', () => {
  it('give the roots and proofs of the whole tree as the log grows in uneven steps', () => {
    const store = memoryStore(records);
    let size = 0;
    for (const next of [1, 63, 64, 65, 300, 777, 1024, 1500]) {
      extendTree(store, size, next);
      size = next;
      expectSameTree(store, size);
    }
    // one node per 2^BLOCK_LEVEL records and above: 1500 records -> 23 + 11 + 5 + 2 + 1 nodes
    expect(store.nodes.size).toBe(42);
    expect([...store.nodes.keys()].every((k) => Number(k.split('/')[0]) >= BLOCK_LEVEL)).toBe(true);
  });

  it('an index written when only subtrees of 256 records and up were kept still extends and proves correctly', () => {
    const store = memoryStore(records);
    extendTree(store, 0, 700);
    for (const key of [...store.nodes.keys()]) if (Number(key.split('/')[0]) < 8) store.nodes.delete(key);
    expectSameTree(store, 700);
    extendTree(store, 700, 1500);
    expectSameTree(store, 1500);
    // the level-8 node completed at 768 was hashed from records whose lower nodes were missing
    expect(store.nodes.get('8/2')?.equals(reference.rangeHash(512, 768))).toBe(true);
  });
});
