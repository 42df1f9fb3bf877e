import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { splitNote, verifyCheckpoint } from './checkpoint.js';
import { inconsistency, type TreeHead } from './consistency.js';
import {
  checkCosignatures,
  cosignaturePrefix,
  cosignedSizes,
  quorumProblems,
  storedCosignatures,
  type WitnessPolicy,
} from './cosignature.js';
import { checkpointKey, readCheckpointAt, type CheckpointMeta } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';
import type { VerifyFinding } from './verify.js';

/**
 * What `verify` checks against state held outside the writer: trees remembered earlier
 * (anchors, at any tree size) and witness cosignatures of the newest checkpoint.
 */

/** A remembered tree: a signed checkpoint note (checked with the trusted keys), or `<tree size> <base64 root>` kept by the auditor. */
function rememberedTree(text: string, trusted: TrustedKeysFile, from: string): TreeHead {
  const plain = /^([1-9]\d*) ([A-Za-z0-9+/]{43}=)\s*$/.exec(text);
  if (plain) return { treeSize: Number(plain[1]), rootHash: Buffer.from(plain[2]!, 'base64') };
  return verifyCheckpoint(text, trusted, from);
}

/**
 * Each anchor must be a prefix of the log's newest checkpoint `head`: same tree, or an RFC 9162
 * consistency proof from its size (any size, not only a checkpoint's) to the head's.
 */
export async function anchorFindings(
  sink: SegmentSink,
  anchors: Array<{ text: string; from: string }>,
  trusted: TrustedKeysFile,
  head: CheckpointMeta | undefined,
): Promise<VerifyFinding[]> {
  const findings: VerifyFinding[] = [];
  for (const { text, from } of anchors) {
    try {
      const seen = rememberedTree(text, trusted, from);
      const why = head
        ? await inconsistency(sink, seen, head, from)
        : `the log holds no checkpoint, but ${from} has tree size ${seen.treeSize}`;
      if (why) findings.push({ kind: 'anchor', message: why });
    } catch (err) {
      findings.push({ kind: 'anchor', message: `${from}: ${errorMessage(err)}` });
    }
  }
  return findings;
}

/** How far a quorum of witnesses vouches for the log: the newest checkpoint they cosigned, and what came after it. */
export interface Witnessed {
  quorum: number;
  /** Tree size of the newest checkpoint with the quorum's valid cosignatures; 0 when none has them. */
  treeSize: number;
  /** Records after it: verified against the log key only, not yet witnessed. */
  unwitnessedRecords: number;
}

/**
 * Finds the newest checkpoint of the log (signed by `logKeys`) that carries the quorum of
 * valid cosignatures by the configured witnesses (in its note or stored under
 * `cosignatures/<tree size>/`). Everything up to it is witnessed: the walk proved every
 * earlier checkpoint a prefix of it. Records after it are reported as not yet witnessed (a
 * live log always has some; not a finding). Findings: no checkpoint meets the quorum (naming
 * the newest and the witnesses missing); a cosignature by a configured witness that does not
 * verify, on any checkpoint; cosignatures stored for a tree size larger than the log's newest
 * checkpoint (a witness saw a tree the log no longer shows: truncated, or someone put them there).
 */
export async function witnessFindings(
  sink: SegmentSink,
  policy: WitnessPolicy,
  head: CheckpointMeta | undefined,
  logKeys: TrustedKeysFile,
  cosignatures: SegmentSink = sink,
): Promise<{ findings: VerifyFinding[]; witnessed?: Witnessed }> {
  if (!head) return { findings: [] };
  const findings: VerifyFinding[] = [];
  const sizes = await cosignedSizes(cosignatures);
  for (const size of sizes.filter((s) => s > head.treeSize))
    findings.push({
      kind: 'witness',
      key: cosignaturePrefix(size),
      message: `cosignatures are stored for tree size ${size}, larger than the log's newest checkpoint (tree size ${head.treeSize}): a witness saw a tree the log no longer shows (truncated or rolled back), or someone put them there`,
    });
  const signedByLog = (meta: CheckpointMeta, key: string): boolean => {
    try {
      return verifyCheckpoint(meta.note, logKeys, key).rootHash.toString('base64') === meta.rootHash;
    } catch {
      return false;
    }
  };
  let witnessed: number | undefined;
  const candidates = [head.treeSize, ...sizes.filter((s) => s < head.treeSize)];
  for (const size of candidates) {
    const meta = size === head.treeSize ? head : await readCheckpointAt(sink, size, signedByLog).catch(() => undefined);
    if (!meta) continue; // not a checkpoint of this log: nothing it could vouch for
    const key = checkpointKey(size);
    const { text, signatures } = splitNote(meta.note, key);
    const results = checkCosignatures(text, [...signatures, ...(await storedCosignatures(cosignatures, size))], policy.witnesses);
    for (const r of results.filter((c) => !c.valid))
      findings.push({
        kind: 'witness',
        key,
        message: `checkpoint ${key} (tree size ${size}): the cosignature by witness ${r.witness} does not verify (forged or altered)`,
      });
    if (witnessed === undefined && new Set(results.filter((r) => r.valid).map((r) => r.witness)).size >= policy.quorum) witnessed = size;
  }
  if (witnessed === undefined) {
    const key = checkpointKey(head.treeSize);
    const { text, signatures } = splitNote(head.note, key);
    const stored = await storedCosignatures(cosignatures, head.treeSize);
    const what = `checkpoint ${key} (tree size ${head.treeSize})`;
    for (const message of quorumProblems(text, [...signatures, ...stored], policy, what).filter((m) => !m.startsWith(`${what}:`)))
      findings.push({ kind: 'witness', key, message: `${message}, nor has any earlier checkpoint: nothing in the log is witnessed` });
  }
  return {
    findings,
    witnessed: { quorum: policy.quorum, treeSize: witnessed ?? 0, unwitnessedRecords: head.treeSize - (witnessed ?? 0) },
  };
}
