import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { checkLineBytes, GENESIS_HASH, recordLeaf, SUFFIX_LENGTH } from './chain.js';
import { verifyCheckpoint } from './checkpoint.js';
import { MerkleFrontier, verifyConsistency } from './merkle.js';
import { gunzipSegment, listCheckpointKeys, readCheckpointMeta, SEGMENTS_PREFIX, segmentDigest, type CheckpointMeta } from './segment.js';
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
  /** prevHash and recomputed hash as bare hex. */
  prevHash: string | undefined;
  actual: string | undefined;
  hashOk: boolean;
  /** The record id, parsed only when a finding names the record. */
  id(): string | undefined;
}

const SEQ_KEY = Buffer.from(',"seq":');
const PREV_KEY = Buffer.from(',"prevHash":"sha256:');

/**
 * Reads what verification needs from one line without parsing its JSON: the hash check
 * (in place, see checkLineBytes), and the top-level `seq` and `prevHash`. Canonical JSON
 * sorts keys and every value after them is a string or an array of strings, so their last
 * occurrence is the top-level one. A forged line that fools this still changes the Merkle
 * root, which is checked against the signed checkpoint.
 */
function scanLine(buf: Buffer, start: number, end: number, line: number): Entry {
  const check = checkLineBytes(buf, start, end);
  const bodyEnd = check ? end - SUFFIX_LENGTH : end;
  let seq: number | undefined;
  const s = buf.lastIndexOf(SEQ_KEY, bodyEnd - SEQ_KEY.length);
  if (s >= start) {
    let i = s + SEQ_KEY.length;
    let n = 0;
    for (; i < bodyEnd && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) n = n * 10 + (buf[i]! - 0x30);
    if (i > s + SEQ_KEY.length && (buf[i] === 0x2c || buf[i] === 0x7d)) seq = n;
  }
  const p = buf.lastIndexOf(PREV_KEY, bodyEnd - PREV_KEY.length);
  const prevHash = p >= start ? buf.toString('latin1', p + PREV_KEY.length, p + PREV_KEY.length + 64) : undefined;
  return {
    line,
    seq,
    prevHash,
    actual: check?.actual,
    hashOk: check !== undefined && check.actual === check.claimed && seq !== undefined && prevHash !== undefined,
    id: () => {
      try {
        const v = JSON.parse(buf.toString('utf8', start, end)) as { id?: unknown };
        return typeof v.id === 'string' ? v.id : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** Splits gunzipped segment bytes into lines and scans each. */
function scanSegment(buf: Buffer): Entry[] {
  const out: Entry[] = [];
  let start = 0;
  let line = 1;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    out.push(scanLine(buf, start, end, line++));
    start = end + 1;
  }
  return out;
}

const hex = (digest: string): string => digest.slice(7);

const who = (e: Entry): string => {
  const id = e.id();
  return `seq ${e.seq ?? '?'}${id ? ` (id ${id})` : ''}`;
};

const named = (e: Entry): { id?: string } => {
  const id = e.id();
  return id ? { id } : {};
};

/**
 * Checks one segment's records against the range its checkpoint covers and names what is
 * wrong: a record whose content does not match its hash (modified), a seq that is missing
 * (deleted), a record out of line order (reordered), a record the checkpoint does not
 * cover or a second record for a seq (inserted), a broken prevHash link (chain).
 * Returns the leaves to add to the tree, in seq order, as recomputed from content.
 */
function checkSegmentRecords(entries: Entry[], meta: CheckpointMeta, head: string | undefined, findings: VerifyFinding[]): { leaves: Buffer[]; head: string | undefined } {
  const key = meta.segment.key;
  const { firstSeq, lastSeq } = meta.segment;
  const bySeq = new Map<number, Entry[]>();
  for (const e of entries) {
    if (e.seq === undefined) {
      findings.push({ kind: 'modified', key, line: e.line, message: `line ${e.line} of ${key} is not a sealed record (modified)` });
    } else if (e.seq < firstSeq || e.seq > lastSeq) {
      findings.push({ kind: 'inserted', key, line: e.line, seq: e.seq, ...named(e), message: `record ${who(e)} at line ${e.line} of ${key} is outside the range ${firstSeq}..${lastSeq} its checkpoint covers (inserted)` });
    } else {
      const list = bySeq.get(e.seq) ?? [];
      list.push(e);
      bySeq.set(e.seq, list);
    }
  }
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
    if (seq === lastSeq) nextPrev.add(hex(meta.segment.lastHash));
    const valid = candidates.filter((c) => c.hashOk);
    const linksBack = (c: Entry): boolean => head === undefined || c.prevHash === head;
    const genuine =
      valid.find((c) => linksBack(c) && c.actual !== undefined && nextPrev.has(c.actual)) ?? valid.find(linksBack) ?? valid[0] ?? candidates[0]!;
    for (const other of candidates) {
      if (other !== genuine) {
        findings.push({ kind: 'inserted', key, line: other.line, seq, ...named(other), message: `record ${who(other)} at line ${other.line} of ${key} is a second record for seq ${seq} (inserted)` });
      }
    }
    const where = () => ({ key, line: genuine.line, seq, ...named(genuine) });
    if (!genuine.hashOk) {
      findings.push({ kind: 'modified', ...where(), message: `record ${who(genuine)} at line ${genuine.line} of ${key} was modified: its content does not match its hash` });
    } else if (head !== undefined && genuine.prevHash !== head) {
      findings.push({ kind: 'chain', ...where(), message: `record ${who(genuine)} at line ${genuine.line} of ${key} does not chain to seq ${seq - 1}: one of them was modified (hash recomputed) or replaced` });
    }
    if (genuine.line < prevLine) {
      findings.push({ kind: 'reordered', ...where(), message: `record ${who(genuine)} at line ${genuine.line} of ${key} comes before seq ${seq - 1} (reordered)` });
    }
    prevLine = genuine.line;
    if (genuine.actual) leaves.push(recordLeaf(genuine.actual));
    head = genuine.hashOk ? genuine.actual : undefined;
  }
  return { leaves, head };
}

type Loaded = { meta?: undefined; error: string } | { meta: CheckpointMeta; bytes?: Uint8Array; text?: Buffer | Error };

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
  let head: string | undefined = hex(GENESIS_HASH);
  let records = 0;
  let segments = 0;
  const covered = new Set<string>();

  const checkpoints = await listCheckpointKeys(sink);
  // Reading and gunzipping the next segment overlaps with checking the current one.
  const load = async (key: string): Promise<Loaded> => {
    let meta: CheckpointMeta;
    try {
      meta = await readCheckpointMeta(sink, key);
    } catch (err) {
      return { error: errorMessage(err) };
    }
    const bytes = await sink.get(meta.segment.key);
    if (!bytes) return { meta };
    const text = await gunzipSegment(bytes, meta.segment.key).catch((err: unknown) => new Error(errorMessage(err)));
    return { meta, bytes, text };
  };
  let next = checkpoints[0] ? load(checkpoints[0].key) : undefined;
  for (const [i, cp] of checkpoints.entries()) {
    for (const w of cp.warnings) warnings.push(`${cp.key}: ${w}`);
    const loaded = await next!;
    next = checkpoints[i + 1] ? load(checkpoints[i + 1]!.key) : undefined;
    if (!loaded.meta) {
      findings.push({ kind: 'checkpoint', key: cp.key, message: `unreadable checkpoint: ${loaded.error}` });
      continue;
    }
    const { meta, bytes, text } = loaded;
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
    let leaves: Buffer[] | undefined;
    if (!bytes) {
      findings.push({ kind: 'deleted', key: meta.segment.key, message: `segment ${meta.segment.key} (records ${meta.segment.firstSeq}..${meta.segment.lastSeq}) is missing (deleted)` });
    } else {
      if (segmentDigest(bytes) !== meta.segment.sha256) {
        findings.push({ kind: 'segment', key: meta.segment.key, message: `segment ${meta.segment.key} does not match the digest recorded in ${cp.key}` });
      }
      if (text instanceof Buffer) {
        const entries = scanSegment(text);
        const checked = checkSegmentRecords(entries, meta, head, findings);
        leaves = checked.leaves;
        head = checked.head;
        records += entries.length;
      } else {
        findings.push({ kind: 'segment', key: meta.segment.key, message: text instanceof Error ? text.message : 'segment unreadable' });
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
    if (root !== meta.rootHash) head = hex(meta.segment.lastHash);
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
