import { hash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { DirectoryBuilder, directoryLine } from './directory.js';
import { FILTER_COLUMNS, filterValues } from './index-columns.js';
import type { SealedRecord } from './record.js';
import { checkLineBytes, NOT_GZIP, recordLeaf, SUFFIX_LENGTH, SUFFIX_PREFIX, wholeTextGunzip } from './stored-line.js';
import { MerkleFrontier } from './merkle.js';
import type { VerifyFinding } from './verify.js';

/**
 * Everything verify checks inside one segment, as a pure function of the segment's bytes and
 * what the checkpoints say, so segments can be checked on worker threads in parallel
 * (`verify-worker.ts`): every record's hash, chain link and seq, and the Merkle root of the
 * log extended by its records. It imports nothing heavy, so a worker starts quickly.
 */
export interface SegmentJob {
  /** The stored (gzip) segment. */
  bytes: Uint8Array;
  /** Key of the checkpoint naming the segment, for findings. */
  checkpointKey: string;
  meta: {
    treeSize: number;
    /** The signed root (base64) the records must lead to; undefined: not checked here (the checkpoint is unreadable). */
    rootHash: string | undefined;
    segment: {
      key: string;
      firstSeq: number;
      lastSeq: number;
      /** Hash of the last record as the checkpoint recorded it, if known. */ lastHash?: string;
    };
  };
  /** Hash (bare hex) the segment's first record must link to; undefined: not checked. */
  head: string | undefined;
  /** The signed tree before this segment (previous checkpoint's frontier, base64 nodes). */
  before: { size: number; nodes: string[] };
  /** The segment directory line signed in the checkpoint, if it has one (see directory.ts). */
  directoryLine?: string;
  /** Return what the index must hold for each record (verify compares it with index.sqlite). */
  indexFacts?: boolean;
}

/** What the index must hold for one record: seq, id, time, hash (bare hex), then the FILTER_COLUMNS values. */
export type IndexFact = [seq: number, id: string, time: string, hash: string, ...values: Array<string | null>];

export interface SegmentResult {
  /** In the order verify reports them: records, Merkle root. */
  findings: VerifyFinding[];
  /** Lines in the segment; undefined when it could not be gunzipped. */
  records: number | undefined;
  /** Hash (bare hex) the next segment's first record must link to, as found in this one. */
  head: string | undefined;
  /** Merkle root (base64) recomputed from the records, when it could be. */
  root: string | undefined;
  /** The tree's frontier after the segment's records (base64 nodes), when the root could be recomputed. */
  frontier: string[] | undefined;
  /** JSON of an IndexFact per record, when asked for and the records are intact. */
  facts?: string;
}

export interface Entry {
  line: number;
  start: number;
  end: number;
  seq: number | undefined;
  /** Where the seq's digits and the prevHash's hex start and end in the line (for re-hashing it renumbered). */
  seqAt: number;
  seqEnd: number;
  prevAt: number;
  /** prevHash and recomputed hash as bare hex. */
  prevHash: string | undefined;
  actual: string | undefined;
  hashOk: boolean;
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
  const seqAt = s + SEQ_KEY.length;
  let i = seqAt;
  if (s >= start) {
    let n = 0;
    for (; i < bodyEnd && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) n = n * 10 + (buf[i]! - 0x30);
    if (i > seqAt && (buf[i] === 0x2c || buf[i] === 0x7d)) seq = n;
  }
  const p = buf.lastIndexOf(PREV_KEY, bodyEnd - PREV_KEY.length);
  const prevAt = p + PREV_KEY.length;
  const prevHash = p >= start ? buf.toString('latin1', prevAt, prevAt + 64) : undefined;
  return {
    line,
    start,
    end,
    seq,
    seqAt,
    seqEnd: i,
    prevAt,
    prevHash,
    actual: check?.actual,
    hashOk: check !== undefined && check.actual === check.claimed && seq !== undefined && prevHash !== undefined,
  };
}

/** Splits stored lines (a gunzipped segment, a WAL file) and scans each. */
export function scanLines(buf: Buffer): Entry[] {
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

/** Every line is the next seq, matches its hash and links to the one before: nothing to name. */
function isClean(entries: Entry[], firstSeq: number, lastSeq: number, head: string | undefined): boolean {
  if (entries.length !== lastSeq - firstSeq + 1) return false;
  let prev = head;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.seq !== firstSeq + i || !e.hashOk || (prev !== undefined && e.prevHash !== prev)) return false;
    prev = e.actual;
  }
  return true;
}

/** Names records in findings; the id is parsed only when a finding names the record. */
function namer(buf: Buffer): { who: (e: Entry) => string; named: (e: Entry) => { id?: string } } {
  const idOf = (e: Entry): string | undefined => {
    try {
      const v = JSON.parse(buf.toString('utf8', e.start, e.end)) as { id?: unknown };
      return typeof v.id === 'string' ? v.id : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    who: (e) => {
      const id = idOf(e);
      return `seq ${e.seq ?? '?'}${id ? ` (id ${id})` : ''}`;
    },
    named: (e) => {
      const id = idOf(e);
      return id ? { id } : {};
    },
  };
}

const CLOSE_BRACE = Buffer.from('}');

/** SHA-256 (hex) of the body of `e`'s line as it would read with another seq and prevHash (bare hex). */
function rehashAs(buf: Buffer, e: Entry, seq: number, prevHash: string): string {
  // RFC 8785 sorts keys, so prevHash comes before seq in every body
  const body = Buffer.concat([
    buf.subarray(e.start, e.prevAt),
    Buffer.from(prevHash, 'latin1'),
    buf.subarray(e.prevAt + 64, e.seqAt),
    Buffer.from(String(seq), 'latin1'),
    buf.subarray(e.seqEnd, e.end - SUFFIX_LENGTH),
    CLOSE_BRACE,
  ]);
  return hash('sha256', body, 'hex');
}

/** Lines re-hashed in the search for an inserted record, at most, per segment (a few seconds). */
const RECHAIN_BUDGET = 2_000_000;

/**
 * A forger who inserts a record and re-chains the rest leaves a segment consistent in itself,
 * one record longer than its checkpoint signs: every record but the last looks genuine, and
 * which one is forged cannot be read off the chain. The signed root tells: each position is
 * tried, from the end, until dropping the record there and numbering the following records
 * back (re-chained from the one before it) gives the signed root. The search re-hashes the
 * lines after each position tried, so it stops after RECHAIN_BUDGET lines; then the usual
 * findings (a record beyond the checkpoint's range, the Merkle root) stand.
 */
function findRechainedInsert(buf: Buffer, entries: Entry[], job: SegmentJob): { at: number; hashes: string[] } | undefined {
  const { firstSeq, lastSeq } = job.meta.segment;
  const before = treeBefore(job);
  if (!before || job.meta.rootHash === undefined || !isClean(entries, firstSeq, lastSeq + 1, job.head)) return undefined;
  if (entries.some((e) => e.prevAt >= e.seqAt)) return undefined;
  // prefixes[i]: the tree extended by the first i records as they are
  const prefixes = [before.clone()];
  for (const e of entries) {
    const next = prefixes.at(-1)!.clone();
    next.push(recordLeaf(e.actual!));
    prefixes.push(next);
  }
  let budget = RECHAIN_BUDGET;
  for (let at = entries.length - 1; at >= 0 && budget >= entries.length - at; at--) {
    budget -= entries.length - at;
    const tree = prefixes[at]!.clone();
    const hashes = entries.slice(0, at).map((e) => e.actual!);
    let prev = entries[at]!.prevHash!;
    for (let i = at + 1; i < entries.length; i++) {
      prev = rehashAs(buf, entries[i]!, firstSeq + i - 1, prev);
      hashes.push(prev);
      tree.push(recordLeaf(prev));
    }
    if (tree.root().toString('base64') === job.meta.rootHash) return { at, hashes };
  }
  return undefined;
}

/**
 * Checks one segment's records against the range its checkpoint covers and names what is
 * wrong: a record whose content does not match its hash (modified), a seq that is missing
 * (deleted), a record out of line order (reordered), a record the checkpoint does not
 * cover or a second record for a seq (inserted), a broken prevHash link (chain).
 * Returns the leaves to add to the tree, in seq order, as recomputed from content.
 */
function checkSegmentRecords(
  buf: Buffer,
  entries: Entry[],
  job: SegmentJob,
  findings: VerifyFinding[],
): { leaves: Buffer[]; head: string | undefined } {
  const { meta } = job;
  let { head } = job;
  const key = meta.segment.key;
  const { firstSeq, lastSeq } = meta.segment;
  if (isClean(entries, firstSeq, lastSeq, head)) return { leaves: entries.map((e) => recordLeaf(e.actual!)), head: entries.at(-1)?.actual };
  const { who, named } = namer(buf);

  const rechained = findRechainedInsert(buf, entries, job);
  if (rechained) {
    const forged = entries[rechained.at]!;
    const seq = forged.seq!;
    const renumbered =
      seq <= lastSeq
        ? `: without it, seqs ${seq + 1}..${lastSeq + 1} are the genuine seqs ${seq}..${lastSeq} renumbered and re-chained`
        : '';
    findings.push({
      kind: 'inserted',
      key,
      line: forged.line,
      seq,
      ...named(forged),
      message: `record ${who(forged)} at line ${forged.line} of ${key} was inserted${renumbered} (they give the signed root of tree size ${meta.treeSize})`,
    });
    return { leaves: rechained.hashes.map(recordLeaf), head: rechained.hashes.at(-1) };
  }

  const bySeq = new Map<number, Entry[]>();
  for (const e of entries) {
    if (e.seq === undefined) {
      findings.push({ kind: 'modified', key, line: e.line, message: `line ${e.line} of ${key} is not a sealed record (modified)` });
    } else if (e.seq < firstSeq || e.seq > lastSeq) {
      findings.push({
        kind: 'inserted',
        key,
        line: e.line,
        seq: e.seq,
        ...named(e),
        message: `record ${who(e)} at line ${e.line} of ${key} is outside the range ${firstSeq}..${lastSeq} its checkpoint covers (inserted)`,
      });
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
    if (seq === lastSeq && meta.segment.lastHash !== undefined) nextPrev.add(hex(meta.segment.lastHash));
    const valid = candidates.filter((c) => c.hashOk);
    const linksBack = (c: Entry): boolean => head === undefined || c.prevHash === head;
    const genuine =
      valid.find((c) => linksBack(c) && c.actual !== undefined && nextPrev.has(c.actual)) ??
      valid.find(linksBack) ??
      valid[0] ??
      candidates[0]!;
    for (const other of candidates) {
      if (other !== genuine) {
        findings.push({
          kind: 'inserted',
          key,
          line: other.line,
          seq,
          ...named(other),
          message: `record ${who(other)} at line ${other.line} of ${key} is a second record for seq ${seq} (inserted)`,
        });
      }
    }
    const where = () => ({ key, line: genuine.line, seq, ...named(genuine) });
    if (!genuine.hashOk) {
      findings.push({
        kind: 'modified',
        ...where(),
        message: `record ${who(genuine)} at line ${genuine.line} of ${key} was modified: its content does not match its hash`,
      });
    } else if (head !== undefined && genuine.prevHash !== head) {
      findings.push({
        kind: 'chain',
        ...where(),
        message: `record ${who(genuine)} at line ${genuine.line} of ${key} does not chain to seq ${seq - 1}: one of them was modified (hash recomputed) or replaced`,
      });
    }
    if (genuine.line < prevLine) {
      findings.push({
        kind: 'reordered',
        ...where(),
        message: `record ${who(genuine)} at line ${genuine.line} of ${key} comes before seq ${seq - 1} (reordered)`,
      });
    }
    prevLine = genuine.line;
    if (genuine.actual) leaves.push(recordLeaf(genuine.actual));
    head = genuine.hashOk ? genuine.actual : undefined;
  }
  return { leaves, head };
}

/**
 * The tenant directory signed with the checkpoint must be the segment's own: otherwise a
 * bundle could leave out a tenant's records and still prove itself complete. Checked only
 * when the records themselves are intact (else those findings already name the damage).
 */
function checkDirectory(builder: DirectoryBuilder, job: SegmentJob, findings: VerifyFinding[]): void {
  if (job.directoryLine === undefined) return;
  const dir = builder.build();
  const { firstSeq, lastSeq, key } = job.meta.segment;
  if (!dir || directoryLine(firstSeq, lastSeq, dir) !== job.directoryLine) {
    findings.push({
      kind: 'directory',
      key: job.checkpointKey,
      message: `${job.checkpointKey}: the signed tenant directory does not match the records of ${key}`,
    });
  }
}

/** The tree before the segment, when the job's frontier is the one its first record extends. */
function treeBefore(job: SegmentJob): MerkleFrontier | undefined {
  if (job.before.size !== job.meta.segment.firstSeq) return undefined;
  return MerkleFrontier.restore(
    job.before.size,
    job.before.nodes.map((h) => Buffer.from(h, 'base64')),
  );
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const SUFFIX_PREFIX_BYTES = Buffer.from(SUFFIX_PREFIX, 'latin1');

/**
 * The common case, a segment whose every line is intact, checked without building an Entry
 * (or a string) per line: each body is hashed in place and its hex compared byte for byte
 * with the claimed hash, the seq read in place, the prevHash compared with the previous
 * line's claimed hash, and the Merkle leaf hashed from the digest. Undefined at the first
 * line that is not so: the full analysis (checkSegmentRecords) then names what is wrong.
 */
function checkIntactSegment(
  buf: Buffer,
  job: SegmentJob,
): { records: number; head: string | undefined; tree: MerkleFrontier | undefined; directory: DirectoryBuilder } | undefined {
  const { firstSeq, lastSeq } = job.meta.segment;
  const tree = treeBefore(job);
  const directory = new DirectoryBuilder();
  const leafInput = Buffer.alloc(33); // 0x00 || record hash
  const hexOut = Buffer.alloc(64);
  const head = job.head === undefined ? undefined : Buffer.from(job.head, 'latin1');
  let claimedAt = -1; // the previous line's claimed hash (hex) in buf
  let seq = firstSeq;
  for (let start = 0; start < buf.length; seq++) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    const suffixStart = end - SUFFIX_LENGTH;
    if (seq > lastSeq || suffixStart <= start + 1 || buf[end - 1] !== 0x7d || buf[end - 2] !== 0x22) return undefined;
    if (buf.compare(SUFFIX_PREFIX_BYTES, 0, SUFFIX_PREFIX_BYTES.length, suffixStart, suffixStart + SUFFIX_PREFIX_BYTES.length) !== 0)
      return undefined;
    buf[suffixStart] = 0x7d; // the body ends where the suffix starts (see checkLineBytes)
    const digest = hash('sha256', buf.subarray(start, suffixStart + 1), 'buffer');
    buf[suffixStart] = 0x2c;
    for (let i = 0; i < 32; i++) {
      hexOut[2 * i] = HEX_DIGITS[digest[i]! >> 4]!;
      hexOut[2 * i + 1] = HEX_DIGITS[digest[i]! & 15]!;
    }
    const claimed = suffixStart + SUFFIX_PREFIX_BYTES.length;
    if (buf.compare(hexOut, 0, 64, claimed, claimed + 64) !== 0) return undefined;
    const s = buf.lastIndexOf(SEQ_KEY, suffixStart - SEQ_KEY.length);
    let i = s + SEQ_KEY.length;
    let n = 0;
    for (; i < suffixStart && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) n = n * 10 + (buf[i]! - 0x30);
    if (s < start || n !== seq || i === s + SEQ_KEY.length || (buf[i] !== 0x2c && buf[i] !== 0x7d)) return undefined;
    const p = buf.lastIndexOf(PREV_KEY, suffixStart - PREV_KEY.length);
    const prevAt = p + PREV_KEY.length;
    if (p < start) return undefined;
    if (
      claimedAt >= 0
        ? buf.compare(buf, claimedAt, claimedAt + 64, prevAt, prevAt + 64) !== 0
        : head && head.compare(buf, prevAt, prevAt + 64) !== 0
    )
      return undefined;
    digest.copy(leafInput, 1);
    tree?.push(hash('sha256', leafInput, 'buffer'));
    if (job.directoryLine !== undefined) directory.addLine(buf, start, end, seq);
    claimedAt = claimed;
    start = end + 1;
  }
  if (seq !== lastSeq + 1) return undefined;
  return { records: seq - firstSeq, head: claimedAt >= 0 ? buf.toString('latin1', claimedAt, claimedAt + 64) : job.head, tree, directory };
}

/** Names what is wrong in a segment that is not intact (a record modified, deleted, inserted, reordered). */
function checkDamagedSegment(
  text: Buffer,
  job: SegmentJob,
  findings: VerifyFinding[],
): { records: number; head: string | undefined; tree: MerkleFrontier | undefined; directory: DirectoryBuilder } {
  const entries = scanLines(text);
  const { leaves, head } = checkSegmentRecords(text, entries, job, findings);
  const tree = treeBefore(job);
  for (const leaf of leaves) tree?.push(leaf);
  const directory = new DirectoryBuilder();
  for (const e of entries) if (e.seq !== undefined) directory.addLine(text, e.start, e.end, e.seq);
  return { records: entries.length, head, tree, directory };
}

export function checkSegment(job: SegmentJob): SegmentResult {
  const { meta, checkpointKey } = job;
  const key = meta.segment.key;
  const findings: VerifyFinding[] = [];
  let text: Buffer;
  try {
    text = gunzipSync(job.bytes, wholeTextGunzip(job.bytes.length));
  } catch {
    findings.push({ kind: 'segment', key, message: NOT_GZIP });
    return { findings, records: undefined, head: job.head, root: undefined, frontier: undefined };
  }
  const { records, head, tree, directory } = checkIntactSegment(text, job) ?? checkDamagedSegment(text, job, findings);
  if (findings.length === 0) checkDirectory(directory, job, findings);
  const facts = job.indexFacts && findings.length === 0 ? { facts: indexFacts(text) } : {};
  if (!tree) return { findings, records, head, root: undefined, frontier: undefined, ...facts };
  const root = tree.root().toString('base64');
  if (meta.rootHash !== undefined && (tree.size !== meta.treeSize || root !== meta.rootHash)) {
    findings.push({
      kind: 'merkle',
      key: checkpointKey,
      message: `Merkle root recomputed from ${key} does not match the signed root of tree size ${meta.treeSize}`,
    });
  }
  return { findings, records, head, root, frontier: tree.snapshot().map((n) => n.toString('base64')), ...facts };
}

/** The index columns of every record of an intact segment, as JSON (one string crosses from a worker thread quickly). */
function indexFacts(text: Buffer): string {
  const lines = text.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return JSON.stringify(
    lines.map((line): IndexFact => {
      const r = JSON.parse(line) as SealedRecord;
      const values = filterValues(r);
      return [r.seq, r.id, r.time, r.hash.slice(7), ...FILTER_COLUMNS.map((c) => values[c])];
    }),
  );
}
