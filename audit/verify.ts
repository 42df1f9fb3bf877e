import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { checkLine, GENESIS_HASH, recordLeaf } from './chain.js';
import { verifyCheckpoint } from './checkpoint.js';
import { MerkleFrontier, verifyConsistency } from './merkle.js';
import { decodeSegment, listCheckpointKeys, readCheckpointMeta, SEGMENTS_PREFIX, segmentDigest, type CheckpointMeta } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';

export type FindingKind = 'segment' | 'modified' | 'deleted' | 'reordered' | 'inserted' | 'chain' | 'merkle' | 'checkpoint' | 'consistency' | 'anchor';

export interface VerifyFinding {
  kind: FindingKind;
  message: string;
  /** Object key (segment or checkpoint) the finding is about. */
  key?: string;
  line?: number;
  seq?: number;
  id?: string;
}

export interface VerifyReport {
  ok: boolean;
  location: string;
  origin: string | null;
  treeSize: number;
  rootHash: string | null;
  records: number;
  segments: number;
  checkpoints: number;
  /** Names of the trusted keys that signed the checkpoints. */
  signedBy: string[];
  findings: VerifyFinding[];
  /** Not integrity failures, but worth an auditor's eye (e.g. an overwrite attempt on S3 that the lock refused to honour). */
  warnings: string[];
  elapsedMs: number;
}

export interface VerifyOptions {
  sink: SegmentSink;
  trustedKeys: TrustedKeysFile;
  /** Expected origin; default: whatever the first checkpoint says. */
  origin?: string;
  /**
   * A checkpoint note saved earlier (e.g. by a witness or a previous verify): the log must
   * still contain it, which detects truncation of the newest segments.
   */
  anchor?: string;
}

interface Entry {
  line: number;
  seq: number | undefined;
  id: string | undefined;
  prevHash: string | undefined;
  /** Hash recomputed from the line's content. */
  actual: string | undefined;
  hashOk: boolean;
}

function parseEntry(text: string, line: number): Entry {
  const check = checkLine(text);
  let value: { seq?: unknown; id?: unknown; prevHash?: unknown } | undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object') value = v as typeof value;
  } catch {
    value = undefined;
  }
  return {
    line,
    seq: typeof value?.seq === 'number' ? value.seq : undefined,
    id: typeof value?.id === 'string' ? value.id : undefined,
    prevHash: typeof value?.prevHash === 'string' ? value.prevHash : undefined,
    actual: check?.actual,
    hashOk: value !== undefined && check !== undefined && check.actual === check.claimed,
  };
}

const who = (e: Entry): string => `seq ${e.seq ?? '?'}${e.id ? ` (id ${e.id})` : ''}`;

/**
 * Checks one segment's records against the range its checkpoint covers and names what is
 * wrong: a record whose content does not match its hash (modified), a seq that is missing
 * (deleted), a record out of line order (reordered), a record the checkpoint does not
 * cover or a second record for a seq (inserted), a broken prevHash link (chain).
 * Returns the leaves to add to the tree, in seq order, as recomputed from content.
 */
function checkSegmentRecords(lines: string[], meta: CheckpointMeta, head: string | undefined, findings: VerifyFinding[]): { leaves: Buffer[]; head: string | undefined } {
  const key = meta.segment.key;
  const { firstSeq, lastSeq } = meta.segment;
  const bySeq = new Map<number, Entry[]>();
  lines.forEach((text, i) => {
    const e = parseEntry(text, i + 1);
    if (e.seq === undefined || !Number.isInteger(e.seq)) {
      findings.push({ kind: 'modified', key, line: e.line, message: `line ${e.line} of ${key} is not a sealed record (modified)` });
    } else if (e.seq < firstSeq || e.seq > lastSeq) {
      findings.push({ kind: 'inserted', key, line: e.line, seq: e.seq, ...(e.id ? { id: e.id } : {}), message: `record ${who(e)} at line ${e.line} of ${key} is outside the range ${firstSeq}..${lastSeq} its checkpoint covers (inserted)` });
    } else {
      const list = bySeq.get(e.seq) ?? [];
      list.push(e);
      bySeq.set(e.seq, list);
    }
  });
  const leaves: Buffer[] = [];
  let prevLine = 0;
  for (let seq = firstSeq; seq <= lastSeq; seq++) {
    const candidates = bySeq.get(seq) ?? [];
    if (candidates.length === 0) {
      findings.push({ kind: 'deleted', key, seq, message: `record seq ${seq} is missing from ${key} (deleted)` });
      head = undefined;
      continue;
    }
    // With several candidates, the genuine one links to both neighbours: its prevHash is the
    // head so far and its hash is the next record's prevHash (or the segment's recorded last hash).
    const nextPrev = new Set((bySeq.get(seq + 1) ?? []).map((c) => c.prevHash));
    if (seq === lastSeq) nextPrev.add(meta.segment.lastHash);
    const valid = candidates.filter((c) => c.hashOk);
    const linksBack = (c: Entry): boolean => head === undefined || c.prevHash === head;
    const genuine =
      valid.find((c) => linksBack(c) && c.actual !== undefined && nextPrev.has(c.actual)) ?? valid.find(linksBack) ?? valid[0] ?? candidates[0]!;
    for (const other of candidates) {
      if (other !== genuine) {
        findings.push({ kind: 'inserted', key, line: other.line, seq, ...(other.id ? { id: other.id } : {}), message: `record ${who(other)} at line ${other.line} of ${key} is a second record for seq ${seq} (inserted)` });
      }
    }
    const where = { key, line: genuine.line, seq, ...(genuine.id ? { id: genuine.id } : {}) };
    if (!genuine.hashOk) {
      findings.push({ kind: 'modified', ...where, message: `record ${who(genuine)} at line ${genuine.line} of ${key} was modified: its content does not match its hash` });
    } else if (head !== undefined && genuine.prevHash !== head) {
      findings.push({ kind: 'chain', ...where, message: `record ${who(genuine)} at line ${genuine.line} of ${key} does not chain to seq ${seq - 1}: one of them was modified (hash recomputed) or replaced` });
    }
    if (genuine.line < prevLine) {
      findings.push({ kind: 'reordered', ...where, message: `record ${who(genuine)} at line ${genuine.line} of ${key} comes before seq ${seq - 1} (reordered)` });
    }
    prevLine = genuine.line;
    if (genuine.actual) leaves.push(recordLeaf(genuine.actual));
    head = genuine.hashOk ? genuine.actual : undefined;
  }
  return { leaves, head };
}

/**
 * Verifies a whole log from its sink alone: every checkpoint's signature, the link and
 * RFC 9162 consistency proof between successive checkpoints, every segment's digest,
 * every record's hash and chain link, contiguous seqs, and each Merkle root recomputed
 * from the records. Nothing is trusted from the writer's local state.
 */
export async function verifyAuditLog(opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const { sink } = opts;
  const findings: VerifyFinding[] = [];
  const warnings: string[] = [];
  const signedBy = new Set<string>();
  let origin: string | null = opts.origin ?? null;
  let frontier = MerkleFrontier.empty();
  let previous: { treeSize: number; rootHash: string } | null = null;
  let head: string | undefined = GENESIS_HASH;
  let records = 0;
  let segments = 0;
  const covered = new Set<string>();

  const checkpoints = await listCheckpointKeys(sink);
  for (const cp of checkpoints) {
    for (const w of cp.warnings) warnings.push(`${cp.key}: ${w}`);
    let meta: CheckpointMeta;
    try {
      meta = await readCheckpointMeta(sink, cp.key);
    } catch (err) {
      findings.push({ kind: 'checkpoint', key: cp.key, message: `unreadable checkpoint: ${errorMessage(err)}` });
      continue;
    }
    const where = { key: cp.key };
    try {
      const note = verifyCheckpoint(meta.note, opts.trustedKeys, cp.key);
      signedBy.add(note.signedBy.name);
      if (note.treeSize !== meta.treeSize || note.rootHash.toString('base64') !== meta.rootHash || note.origin !== meta.origin) {
        findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: the signed note does not match the checkpoint's tree size, root or origin` });
      }
    } catch (err) {
      findings.push({ kind: 'checkpoint', ...where, message: errorMessage(err) });
    }
    origin ??= meta.origin;
    if (meta.origin !== origin) findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: origin '${meta.origin}', expected '${origin}'` });
    if (meta.treeSize !== cp.treeSize) findings.push({ kind: 'checkpoint', ...where, message: `${cp.key} holds tree size ${meta.treeSize}` });
    if (MerkleFrontier.restore(meta.treeSize, meta.frontier.map((h) => Buffer.from(h, 'base64'))).root().toString('base64') !== meta.rootHash) {
      findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: stored frontier does not hash to the root` });
    }
    const expectedFirst = previous?.treeSize ?? 0;
    if (meta.segment.firstSeq > expectedFirst) {
      findings.push({ kind: 'deleted', ...where, message: `records ${expectedFirst}..${meta.segment.firstSeq - 1} are missing before ${cp.key}: a checkpoint or segment was deleted` });
    } else if (meta.segment.firstSeq < expectedFirst || meta.segment.lastSeq !== meta.treeSize - 1) {
      findings.push({ kind: 'inserted', ...where, message: `${cp.key} covers seq ${meta.segment.firstSeq}..${meta.segment.lastSeq}, overlapping the log so far (ends at seq ${expectedFirst - 1})` });
    }
    if (JSON.stringify(meta.previous) !== JSON.stringify(previous)) {
      findings.push({ kind: 'checkpoint', ...where, message: `${cp.key} does not link to the previous checkpoint (tree size ${previous?.treeSize ?? 'none'})` });
    }

    covered.add(meta.segment.key);
    segments++;
    const bytes = await sink.get(meta.segment.key);
    let leaves: Buffer[] | undefined;
    if (!bytes) {
      findings.push({ kind: 'deleted', key: meta.segment.key, message: `segment ${meta.segment.key} (records ${meta.segment.firstSeq}..${meta.segment.lastSeq}) is missing (deleted)` });
    } else {
      if (segmentDigest(bytes) !== meta.segment.sha256) {
        findings.push({ kind: 'segment', key: meta.segment.key, message: `segment ${meta.segment.key} does not match the digest recorded in ${cp.key}` });
      }
      try {
        const lines = await decodeSegment(bytes, meta.segment.key);
        const checked = checkSegmentRecords(lines, meta, head, findings);
        leaves = checked.leaves;
        head = checked.head;
        records += lines.length;
      } catch (err) {
        findings.push({ kind: 'modified', key: meta.segment.key, message: errorMessage(err) });
      }
    }
    const before = frontier;
    let root: string | undefined;
    if (leaves && before.size === meta.segment.firstSeq) {
      const next = before.clone();
      for (const leaf of leaves) next.push(leaf);
      root = next.root().toString('base64');
      if (next.size !== meta.treeSize || root !== meta.rootHash) {
        findings.push({ kind: 'merkle', ...where, message: `Merkle root recomputed from ${meta.segment.key} does not match the signed root of tree size ${meta.treeSize}` });
      }
    }
    if (previous) {
      const ok = verifyConsistency(
        previous.treeSize,
        meta.treeSize,
        Buffer.from(previous.rootHash, 'base64'),
        Buffer.from(meta.rootHash, 'base64'),
        meta.consistencyProof.map((h) => Buffer.from(h, 'base64')),
      );
      if (!ok) findings.push({ kind: 'consistency', ...where, message: `${cp.key}: no valid consistency proof from tree size ${previous.treeSize} to ${meta.treeSize}` });
    }
    // Continue from the signed state so one bad segment does not hide problems in later ones.
    frontier = MerkleFrontier.restore(meta.treeSize, meta.frontier.map((h) => Buffer.from(h, 'base64')));
    if (root !== meta.rootHash) head = meta.segment.lastHash;
    previous = { treeSize: meta.treeSize, rootHash: meta.rootHash };
  }

  for (const o of await sink.list(SEGMENTS_PREFIX)) {
    for (const w of o.warnings) warnings.push(`${o.key}: ${w}`);
    if (!covered.has(o.key)) findings.push({ kind: 'inserted', key: o.key, message: `segment ${o.key} is not covered by any checkpoint (inserted)` });
  }

  if (opts.anchor) {
    try {
      const anchor = verifyCheckpoint(opts.anchor, opts.trustedKeys, 'anchor checkpoint');
      const match = checkpoints.find((c) => c.treeSize === anchor.treeSize);
      const meta = match ? await readCheckpointMeta(sink, match.key) : undefined;
      if (!meta || meta.rootHash !== anchor.rootHash.toString('base64')) {
        findings.push({ kind: 'anchor', message: `the log no longer contains the anchor checkpoint of tree size ${anchor.treeSize} (truncated or rewritten)` });
      }
    } catch (err) {
      findings.push({ kind: 'anchor', message: `anchor: ${errorMessage(err)}` });
    }
  }

  return {
    ok: findings.length === 0,
    location: sink.location,
    origin,
    treeSize: previous?.treeSize ?? 0,
    rootHash: previous?.rootHash ?? null,
    records,
    segments,
    checkpoints: checkpoints.length,
    signedBy: [...signedBy].sort(),
    findings,
    warnings,
    elapsedMs: Math.round(performance.now() - started),
  };
}
