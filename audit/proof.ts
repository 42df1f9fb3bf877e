import { z } from 'zod';
import { FindingError, InputError, validateWith } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { recomputeHash } from './chain.js';
import { recordLeaf } from './stored-line.js';
import { verifyCheckpoint } from './checkpoint.js';
import { indexInclusionProof } from './index-tree.js';
import { verifyInclusion } from './merkle.js';
import { readSealed } from './query.js';
import { SealedRecord } from './record.js';
import { indexedCheckpoint, openReader, type AuditReadOptions } from './reader.js';
import { Base64Hash } from './segment.js';

/** An inclusion proof anyone can check offline with the log's public key. */
export const InclusionProof = z.object({
  format: z.literal('charter.audit.inclusion-proof/v1'),
  record: SealedRecord,
  treeSize: z.number().int().positive(),
  /** RFC 9162 audit path, leaf to root, base64. */
  auditPath: z.array(Base64Hash),
  /** The signed C2SP checkpoint the path leads to. */
  checkpoint: z.string().min(1),
});
export type InclusionProof = z.infer<typeof InclusionProof>;

export interface VerifiedInclusion {
  recordId: string;
  seq: number;
  treeSize: number;
  origin: string;
  signedBy: string;
}

/**
 * Proves that the record with `recordId` is in the log, against the newest checkpoint (or the
 * first of `preferTreeSizes` that contains it, e.g. one the witnesses cosigned): the index's
 * stored tree nodes, checked here against the signed root.
 */
export async function proveInclusion(opts: AuditReadOptions & { recordId: string; preferTreeSizes?: number[] }): Promise<InclusionProof> {
  const reader = await openReader(opts);
  try {
    const found = reader.index.getById(opts.recordId);
    if (!found) throw new InputError(`no sealed record with id ${opts.recordId}`, { field: 'recordId' });
    if (!reader.latest) throw new InputError('the audit log has no sealed records yet', { file: reader.sink.location });
    const preferred = opts.preferTreeSizes?.find((size) => size > found.seq && size <= reader.latest!.treeSize);
    const latest = preferred ? await indexedCheckpoint(reader.sink, reader.index, preferred) : reader.latest;
    const [record] = await readSealed(reader, [found]);
    const auditPath = indexInclusionProof(reader.index.treeStore(), found.seq, latest.treeSize);
    if (!verifyInclusion(found.seq, latest.treeSize, recordLeaf(record!.hash), auditPath, Buffer.from(latest.rootHash, 'base64')))
      throw new FindingError(`the index's Merkle nodes do not lead to the root of tree size ${latest.treeSize}: run charter audit reindex`);
    return {
      format: 'charter.audit.inclusion-proof/v1',
      record: record!,
      treeSize: latest.treeSize,
      auditPath: auditPath.map((h) => h.toString('base64')),
      checkpoint: latest.note,
    };
  } finally {
    reader.close();
  }
}

/**
 * Checks a proof offline: the record's hash from its content, the audit path up to the
 * checkpoint's root, and the checkpoint's signature by a trusted audit-checkpoint key.
 */
export function verifyInclusionProof(input: unknown, trusted: TrustedKeysFile, where = 'inclusion proof'): VerifiedInclusion {
  const proof = validateWith(InclusionProof, input, where);
  const { record } = proof;
  if (recomputeHash(record) !== record.hash)
    throw new FindingError(`record ${record.id} (seq ${record.seq}) does not match its hash: modified`, { file: where });
  const cp = verifyCheckpoint(proof.checkpoint, trusted, where);
  if (cp.treeSize !== proof.treeSize)
    throw new FindingError(`proof is for tree size ${proof.treeSize}, checkpoint says ${cp.treeSize}`, { file: where });
  const path = proof.auditPath.map((h) => Buffer.from(h, 'base64'));
  if (!verifyInclusion(record.seq, cp.treeSize, recordLeaf(record.hash), path, cp.rootHash)) {
    throw new FindingError(
      `record ${record.id} (seq ${record.seq}) is not included in the checkpoint's tree: the audit path does not lead to its root`,
      { file: where },
    );
  }
  return { recordId: record.id, seq: record.seq, treeSize: cp.treeSize, origin: cp.origin, signedBy: cp.signedBy.name };
}
