import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { splitNote, verifyCheckpoint } from './checkpoint.js';
import { inconsistency, type TreeHead } from './consistency.js';
import { checkCosignatures, cosignedSizes, quorumProblems, storedCosignatures, type WitnessPolicy } from './cosignature.js';
import { checkpointKey, readCheckpointMeta, type CheckpointMeta } from './segment.js';
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

/**
 * The newest checkpoint must carry a quorum of valid cosignatures by the configured witnesses
 * (in its note or stored under `cosignatures/<tree size>/`); a cosignature by a configured
 * witness that does not verify, on any checkpoint, is a finding of its own.
 */
export async function witnessFindings(
  sink: SegmentSink,
  policy: WitnessPolicy,
  head: CheckpointMeta | undefined,
  cosignatures: SegmentSink = sink,
): Promise<VerifyFinding[]> {
  if (!head) return [];
  const findings: VerifyFinding[] = [];
  const headKey = checkpointKey(head.treeSize);
  const { text, signatures } = splitNote(head.note, headKey);
  const stored = await storedCosignatures(cosignatures, head.treeSize);
  for (const message of quorumProblems(text, [...signatures, ...stored], policy, `checkpoint ${headKey} (tree size ${head.treeSize})`))
    findings.push({ kind: 'witness', key: headKey, message });
  // forged cosignatures on older checkpoints
  for (const size of (await cosignedSizes(cosignatures)).filter((s) => s < head.treeSize)) {
    const key = checkpointKey(size);
    const meta = await readCheckpointMeta(sink, key).catch(() => undefined);
    if (!meta) continue; // not a checkpoint of this log: nothing it could vouch for
    const results = checkCosignatures(splitNote(meta.note, key).text, await storedCosignatures(cosignatures, size), policy.witnesses);
    for (const r of results.filter((c) => !c.valid))
      findings.push({
        kind: 'witness',
        key,
        message: `${key}: the cosignature by witness ${r.witness} does not verify (forged or altered)`,
      });
  }
  return findings;
}
