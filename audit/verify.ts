import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH } from './chain.js';
import { noteExtensions, verifyCheckpoint } from './checkpoint.js';
import type { WitnessPolicy } from './cosignature.js';
import { DIRECTORY_TAG } from './directory.js';
import { MerkleFrontier, verifyConsistency } from './merkle.js';
import { AuditIndex, FILTER_COLUMNS, type IndexRow } from './index-db.js';
import { checkSegment, scanLines, type IndexFact, type SegmentJob, type SegmentResult } from './segment-check.js';
import { listCheckpointKeys, readCheckpointMeta, SEGMENTS_PREFIX, segmentDigest, type CheckpointMeta } from './segment.js';
import type { SegmentSink, SinkObject } from './sinks/sink.js';
import { WorkerPool } from './threads.js';
import { newestSignedCheckpoint, oneCheckpointPerTreeSize } from './consistency.js';
import { anchorFindings, witnessFindings, type Witnessed } from './verify-trust.js';
import { acknowledgedEnd } from './wal.js';
import { readWitness, witnessFile } from './witness.js';

export type FindingKind =
  | 'segment'
  | 'modified'
  | 'deleted'
  | 'reordered'
  | 'inserted'
  | 'chain'
  | 'merkle'
  | 'checkpoint'
  | 'consistency'
  | 'anchor'
  | 'empty'
  | 'store'
  | 'directory'
  | 'witness'
  | 'wal'
  | 'index';

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
  /**
   * With a witness policy: the newest checkpoint its quorum cosigned, and how many records
   * came after it (verified against the log key, not yet witnessed: not a finding).
   */
  witnessed?: Witnessed;
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
  /**
   * The writer's local state directory: the newest checkpoint it sealed (its witness, see
   * witness.ts) must still be in the log, which detects truncation without an anchor.
   */
  stateDir?: string;
  /** Witnesses whose quorum must have cosigned a checkpoint; the report says up to which (see verify-trust.ts). */
  witnesses?: WitnessPolicy;
  /** Where the cosignatures are; default the log's sink. */
  cosignatures?: SegmentSink;
}

const hex = (digest: string): string => digest.slice(7);

type CheckpointKey = Awaited<ReturnType<typeof listCheckpointKeys>>[number];

/** The signed tree after a checkpoint: what the next segment extends. */
interface SignedTree {
  treeSize: number;
  rootHash: string;
  /** Its frontier, base64 nodes. */
  frontier: string[];
}

/**
 * What the stages of one verification share. Each stage reads what earlier ones found and adds
 * findings; a new check is a new stage in VERIFY_STAGES.
 */
export interface VerifyRun {
  readonly opts: VerifyOptions;
  readonly sink: SegmentSink;
  readonly findings: VerifyFinding[];
  readonly warnings: string[];
  readonly signedBy: Set<string>;
  origin: string | null;
  checkpoints: CheckpointKey[];
  /** Every object under segments/, listed once. */
  segmentObjects: SinkObject[];
  /** Segments some checkpoint names. */
  readonly covered: Set<string>;
  /** The last signed tree the walk reached (null before the first checkpoint). */
  tree: SignedTree | null;
  /** Hash (bare hex) the next record must link to; undefined when it is not known (a damaged segment). */
  head: string | undefined;
  records: number;
  segments: number;
  /** The writer's index, when the state directory has one: each segment's rows are compared with its records. */
  index?: { db: AuditIndex; file: string; synced: number };
  witnessed?: Witnessed;
}

type VerifyStage = (run: VerifyRun) => Promise<void> | void;

/** A checkpoint read ahead of the walk, its segment being checked on a worker thread meanwhile. */
interface Prepared {
  key: string;
  error?: string;
  meta?: CheckpointMeta;
  job?: SegmentJob;
  result?: Promise<SegmentResult>;
}

/** Lists the checkpoints and segments; nothing to verify is a finding, not a pass. */
async function listObjects(run: VerifyRun): Promise<void> {
  const { kept, passedOver } = await oneCheckpointPerTreeSize(run.sink, await listCheckpointKeys(run.sink), run.opts.trustedKeys);
  run.checkpoints = kept;
  for (const { entry, why, kept: log } of passedOver)
    run.findings.push({
      kind: 'inserted',
      key: entry.key,
      message: `${entry.key} is not this log's checkpoint for tree size ${entry.treeSize} (${why}); the log's is ${log.key}: someone else's object at a key the writer would use`,
    });
  run.segmentObjects = await run.sink.list(SEGMENTS_PREFIX);
  // A wrong path, a wiped directory or an emptied bucket looks just like this.
  if (run.checkpoints.length === 0)
    run.findings.push({ kind: 'empty', message: `${run.sink.location} holds no checkpoint: the log is empty, missing or was deleted` });
}

/** The signed note, origin, key and stored frontier of one checkpoint object. */
function checkCheckpointObject(run: VerifyRun, cp: CheckpointKey, meta: CheckpointMeta): void {
  const where = { key: cp.key };
  try {
    const note = verifyCheckpoint(meta.note, run.opts.trustedKeys, cp.key);
    run.signedBy.add(note.signedBy.name);
    if (note.treeSize !== meta.treeSize || note.rootHash.toString('base64') !== meta.rootHash || note.origin !== meta.origin) {
      run.findings.push({
        kind: 'checkpoint',
        ...where,
        message: `${cp.key}: the signed note does not match the checkpoint's tree size, root or origin`,
      });
    }
  } catch (err) {
    run.findings.push({ kind: 'checkpoint', ...where, message: errorMessage(err) });
  }
  run.origin ??= meta.origin;
  if (meta.origin !== run.origin)
    run.findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: origin '${meta.origin}', expected '${run.origin}'` });
  if (meta.treeSize !== cp.treeSize)
    run.findings.push({ kind: 'checkpoint', ...where, message: `${cp.key} holds tree size ${meta.treeSize}` });
  const frontier = MerkleFrontier.restore(
    meta.treeSize,
    meta.frontier.map((h) => Buffer.from(h, 'base64')),
  );
  if (frontier.root().toString('base64') !== meta.rootHash)
    run.findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: stored frontier does not hash to the root` });
}

/** The checkpoint continues the log where the previous one ended, and links to it. */
function checkRange(run: VerifyRun, cp: CheckpointKey, meta: CheckpointMeta): void {
  const where = { key: cp.key };
  const expectedFirst = run.tree?.treeSize ?? 0;
  if (meta.segment.firstSeq > expectedFirst) {
    run.findings.push({
      kind: 'deleted',
      ...where,
      message: `records ${expectedFirst}..${meta.segment.firstSeq - 1} are missing before ${cp.key}: a checkpoint or segment was deleted`,
    });
  } else if (meta.segment.firstSeq < expectedFirst || meta.segment.lastSeq !== meta.treeSize - 1) {
    run.findings.push({
      kind: 'inserted',
      ...where,
      message: `${cp.key} covers seq ${meta.segment.firstSeq}..${meta.segment.lastSeq}, overlapping the log so far (ends at seq ${expectedFirst - 1})`,
    });
  }
  const previous = run.tree && { treeSize: run.tree.treeSize, rootHash: run.tree.rootHash };
  if (JSON.stringify(meta.previous) !== JSON.stringify(previous)) {
    run.findings.push({
      kind: 'checkpoint',
      ...where,
      message: `${cp.key} does not link to the previous checkpoint (tree size ${previous?.treeSize ?? 'none'})`,
    });
  }
}

/** The job for checking a segment as the walk expects it: after the last signed tree, linked to the head. */
function segmentJob(
  run: VerifyRun,
  bytes: Uint8Array,
  checkpointKey: string,
  meta: SegmentJob['meta'],
  directoryLine?: string,
): SegmentJob {
  return {
    bytes,
    checkpointKey,
    meta,
    head: run.head,
    before: { size: run.tree?.treeSize ?? 0, nodes: run.tree?.frontier ?? [] },
    ...(directoryLine === undefined ? {} : { directoryLine }),
    indexFacts: run.index !== undefined,
  };
}

const sameStart = (a: SegmentJob, b: SegmentJob): boolean =>
  a.head === b.head && a.before.size === b.before.size && a.before.nodes.join() === b.before.nodes.join();

/**
 * The checkpoint's segment: its digest, its records (on a worker thread when the walk's guess
 * of where it starts held, else again here), and the last record hash the checkpoint recorded.
 */
async function checkSegmentOf(run: VerifyRun, cp: CheckpointKey, loaded: Prepared, meta: CheckpointMeta): Promise<string | undefined> {
  run.covered.add(meta.segment.key);
  run.segments++;
  const { job } = loaded;
  if (!job) {
    run.findings.push({
      kind: 'deleted',
      key: meta.segment.key,
      message: `segment ${meta.segment.key} (records ${meta.segment.firstSeq}..${meta.segment.lastSeq}) is missing (deleted)`,
    });
    return undefined;
  }
  if (segmentDigest(job.bytes) !== meta.segment.sha256) {
    run.findings.push({
      kind: 'segment',
      key: meta.segment.key,
      message: `segment ${meta.segment.key} does not match the digest recorded in ${cp.key}`,
    });
  }
  const expected = segmentJob(run, job.bytes, job.checkpointKey, job.meta, job.directoryLine);
  const result = sameStart(job, expected) ? await loaded.result! : checkSegment(expected);
  run.findings.push(...result.findings);
  run.records += result.records ?? 0;
  run.head = result.head;
  compareIndex(run, meta.segment.key, result);
  // The writer resumes from the recorded last hash: an altered one is the field's fault, not the next record's.
  if (result.findings.length === 0 && result.head !== undefined && result.head !== hex(meta.segment.lastHash)) {
    run.findings.push({
      kind: 'checkpoint',
      key: cp.key,
      message: `${cp.key}: segment.lastHash ${meta.segment.lastHash} is not the hash of the segment's last record, seq ${meta.segment.lastSeq} (sha256:${result.head}): the field was altered`,
    });
  }
  return result.root;
}

/** The RFC 9162 consistency proof from the previous signed tree to this one. */
function checkConsistency(run: VerifyRun, cp: CheckpointKey, meta: CheckpointMeta): void {
  const previous = run.tree;
  if (!previous) return;
  const ok = verifyConsistency(
    previous.treeSize,
    meta.treeSize,
    Buffer.from(previous.rootHash, 'base64'),
    Buffer.from(meta.rootHash, 'base64'),
    meta.consistencyProof.map((h) => Buffer.from(h, 'base64')),
  );
  if (!ok)
    run.findings.push({
      kind: 'consistency',
      key: cp.key,
      message: `${cp.key}: no valid consistency proof from tree size ${previous.treeSize} to ${meta.treeSize}`,
    });
}

const SEGMENT_RANGE = /\/(\d{12})-(\d{12})(?:\.\d+)?\.jsonl\.gz$/;

/**
 * A checkpoint object that cannot be read (truncated, overwritten, planted) says nothing, but
 * the records it sealed may still be intact: its segment is found by its seq range, checked
 * from the last signed tree, and its root compared with the one the next checkpoint links
 * to, which that checkpoint's consistency proof then proves. So a damaged checkpoint is
 * reported as itself, not as deleted records.
 */
async function checkUnreadable(run: VerifyRun, cp: CheckpointKey, error: string, next: Prepared | undefined): Promise<void> {
  const firstSeq = run.tree?.treeSize ?? 0;
  const lastSeq = cp.treeSize - 1;
  const key = run.segmentObjects
    .map((o) => o.key)
    .find((k) => {
      const m = SEGMENT_RANGE.exec(k);
      return m !== null && Number(m[1]) === firstSeq && Number(m[2]) === lastSeq;
    });
  const bytes = key === undefined ? undefined : await run.sink.get(key);
  if (key === undefined || bytes === undefined) {
    run.findings.push({
      kind: 'checkpoint',
      key: cp.key,
      message: `${cp.key} is unreadable and no segment holds seqs ${firstSeq}..${lastSeq}: ${error}`,
    });
    return;
  }
  const linked = next?.meta?.previous?.treeSize === cp.treeSize ? next.meta.previous.rootHash : undefined;
  const result = checkSegment(
    segmentJob(run, bytes, cp.key, { treeSize: cp.treeSize, rootHash: linked, segment: { key, firstSeq, lastSeq } }),
  );
  run.covered.add(key);
  run.segments++;
  run.records += result.records ?? 0;
  run.findings.push(...result.findings);
  compareIndex(run, key, result);
  const intact = result.findings.length === 0 && linked !== undefined && result.root === linked;
  run.findings.push({
    kind: 'checkpoint',
    key: cp.key,
    message: `${cp.key} is unreadable (${error}); ${
      intact
        ? `the records ${firstSeq}..${lastSeq} it sealed are intact: ${key} gives the root the next checkpoint links to`
        : `the records ${firstSeq}..${lastSeq} in ${key} cannot be checked against a signed root`
    }`,
  });
  run.head = result.head;
  if (result.root !== undefined && result.frontier !== undefined && linked !== undefined)
    run.tree = { treeSize: cp.treeSize, rootHash: linked, frontier: result.frontier };
}

/**
 * Walks the checkpoints in log order: each one's object, its place in the log, its segment
 * and the consistency proof from the one before. Segments are checked on worker threads,
 * several at once: each job starts from what the previous checkpoint says (its frontier and
 * last record hash), and the walk checks a segment again itself in the rare (tampered) case
 * where what the previous segment actually held differs, so the findings are exactly those
 * of a one-by-one walk.
 */
async function walkLog(run: VerifyRun): Promise<void> {
  const { sink, checkpoints } = run;
  const threads = Math.min(availableParallelism(), Math.max(1, checkpoints.length));
  const pool = new WorkerPool<SegmentJob, SegmentResult>('verify-worker.js', threads, checkSegment);
  // The state each job starts from when nothing is wrong: the last readable checkpoint's.
  let expected: Pick<SegmentJob, 'head' | 'before'> = { head: hex(GENESIS_HASH), before: { size: 0, nodes: [] } };
  const prepare = async (key: string): Promise<Prepared> => {
    let meta: CheckpointMeta;
    try {
      meta = await readCheckpointMeta(sink, key);
    } catch (err) {
      return { key, error: errorMessage(err) };
    }
    const bytes = await sink.get(meta.segment.key);
    const job: SegmentJob | undefined = bytes && {
      bytes,
      checkpointKey: key,
      meta: { treeSize: meta.treeSize, rootHash: meta.rootHash, segment: meta.segment },
      ...expected,
      directoryLine: noteExtensions(meta.note).find((l) => l.startsWith(`${DIRECTORY_TAG} `)),
      indexFacts: run.index !== undefined,
    };
    expected = { head: hex(meta.segment.lastHash), before: { size: meta.treeSize, nodes: meta.frontier } };
    if (!job) return { key, meta };
    const result = pool.run(job);
    result.catch(() => undefined); // awaited in turn, or not at all when the walk checks the segment itself
    return { key, meta, job, result };
  };
  // Keep every worker busy with the next segments while the walk checks the current one.
  const ahead: Array<Promise<Prepared>> = [];
  let chain = Promise.resolve() as Promise<unknown>;
  const queue = (i: number): void => {
    const cp = checkpoints[i];
    if (!cp) return;
    const p = chain.then(() => prepare(cp.key));
    p.catch(() => undefined); // a failed read is thrown where the walk awaits it
    chain = p;
    ahead.push(p);
  };
  run.head = hex(GENESIS_HASH);
  try {
    for (let i = 0; i < 2 * threads; i++) queue(i);
    for (const [i, cp] of checkpoints.entries()) {
      for (const w of cp.warnings) run.warnings.push(`${cp.key}: ${w}`);
      for (const f of cp.findings) run.findings.push({ kind: 'store', key: cp.key, message: `${cp.key}: ${f}` });
      const loaded = await ahead.shift()!;
      queue(i + 2 * threads);
      if (!loaded.meta) {
        await checkUnreadable(run, cp, loaded.error ?? 'unreadable', await ahead[0]);
        continue;
      }
      const { meta } = loaded;
      checkCheckpointObject(run, cp, meta);
      checkRange(run, cp, meta);
      const root = await checkSegmentOf(run, cp, loaded, meta);
      checkConsistency(run, cp, meta);
      // Continue from the signed state so one bad segment does not hide problems in later ones.
      if (root !== meta.rootHash) run.head = hex(meta.segment.lastHash);
      run.tree = { treeSize: meta.treeSize, rootHash: meta.rootHash, frontier: meta.frontier };
    }
  } finally {
    await Promise.allSettled(ahead);
    await pool.close();
  }
}

/** Objects under segments/ that no checkpoint names were put there by someone else. */
function checkSegmentObjects(run: VerifyRun): void {
  for (const o of run.segmentObjects) {
    for (const w of o.warnings) run.warnings.push(`${o.key}: ${w}`);
    for (const f of o.findings ?? []) run.findings.push({ kind: 'store', key: o.key, message: `${o.key}: ${f}` });
    if (!run.covered.has(o.key))
      run.findings.push({ kind: 'inserted', key: o.key, message: `segment ${o.key} is not covered by any checkpoint (inserted)` });
  }
}

/** The newest checkpoint signed by a trusted key (objects above it are findings of the walk already). */
const newestSigned = async (run: VerifyRun) =>
  run.checkpoints.length > 0 ? (await newestSignedCheckpoint(run.sink, run.opts.trustedKeys).catch(() => undefined))?.meta : undefined;

/** A tree seen earlier (the anchor, the writer's latest-checkpoint), at any size, must be a prefix of the log: else it was truncated or rewritten. */
async function checkAnchors(run: VerifyRun): Promise<void> {
  const { opts } = run;
  const anchors: Array<{ text: string; from: string }> = [];
  if (opts.anchor) anchors.push({ text: opts.anchor, from: 'the anchor' });
  const witness = opts.stateDir === undefined ? undefined : readWitness(opts.stateDir);
  if (witness !== undefined) anchors.push({ text: witness, from: `the checkpoint recorded in ${witnessFile(opts.stateDir!)}` });
  if (anchors.length > 0) run.findings.push(...(await anchorFindings(run.sink, anchors, opts.trustedKeys, await newestSigned(run))));
}

/** How far the configured witnesses' quorum vouches for the log: up to the newest checkpoint it cosigned (verify-trust.ts). */
async function checkWitnesses(run: VerifyRun): Promise<void> {
  const { witnesses, cosignatures, trustedKeys } = run.opts;
  if (!witnesses) return;
  const { findings, witnessed } = await witnessFindings(run.sink, witnesses, await newestSigned(run), trustedKeys, cosignatures);
  run.findings.push(...findings);
  if (witnessed) run.witnessed = witnessed;
}

/**
 * Opens the writer's index (`index.sqlite` in the state directory) read-only, so the walk
 * compares each segment's rows with its records: queries locate records through these rows,
 * and an edited row could hide a record from them or show it under another value.
 */
function openIndex(run: VerifyRun): void {
  const dir = run.opts.stateDir;
  const file = dir === undefined ? undefined : join(dir, 'index.sqlite');
  if (file === undefined || !existsSync(file)) return;
  try {
    const db = AuditIndex.openReadOnly(file);
    if (db) run.index = { db, file, synced: db.syncedTreeSize() };
    else run.warnings.push(`${file}: an index of another layout, not checked (readers rebuild it)`);
  } catch (err) {
    run.warnings.push(`${file}: cannot be read, not checked (readers rebuild it): ${errorMessage(err)}`);
  }
}

const INDEX_FIELDS: ReadonlyArray<readonly [string, (r: IndexRow) => string | null]> = [
  ['id', (r) => r.id],
  ['time', (r) => r.time],
  ['hash', (r) => r.hash.toString('hex')],
  ...FILTER_COLUMNS.map((c) => [c, (r: IndexRow) => r.values[c]] as const),
];

/** Each record of a segment must have its row, naming it exactly as sealed (fields in the order of an IndexFact). */
function compareIndex(run: VerifyRun, segment: string, result: SegmentResult): void {
  if (!run.index || result.facts === undefined) return;
  const facts = JSON.parse(result.facts) as IndexFact[];
  if (facts.length === 0) return;
  const { db, file, synced } = run.index;
  const rows = new Map(db.rows(facts[0]![0], facts.at(-1)![0] + 1).map((r) => [r.seq, r]));
  for (const [seq, ...sealed] of facts) {
    const row = rows.get(seq);
    const who = `seq ${seq} (id ${sealed[0]})`;
    if (!row) {
      if (seq < synced)
        run.findings.push({
          kind: 'index',
          seq,
          key: segment,
          message: `${file} has no row for ${who} of ${segment}: queries cannot find it`,
        });
      continue;
    }
    INDEX_FIELDS.forEach(([name, get], i) => {
      const indexed = get(row);
      if (indexed !== sealed[i])
        run.findings.push({
          kind: 'index',
          seq,
          id: sealed[0]!,
          key: segment,
          message: `${file}: the row for ${who} says ${name} ${JSON.stringify(indexed)}, the sealed record ${JSON.stringify(sealed[i])} (the row was edited)`,
        });
    });
    if (row.segment !== segment)
      run.findings.push({
        kind: 'index',
        seq,
        key: segment,
        message: `${file}: the row for ${who} places it in ${row.segment}, it is sealed in ${segment}`,
      });
  }
}

/** Rows the log does not have were put in the index by someone else; then the index is closed. */
function checkIndexRows(run: VerifyRun): void {
  if (!run.index) return;
  const { db, file } = run.index;
  const treeSize = run.tree?.treeSize ?? 0;
  const last = db.lastSeq();
  if (last >= treeSize)
    run.findings.push({
      kind: 'index',
      message: `${file} holds rows for seqs ${treeSize}..${last}, beyond the log's tree size ${treeSize}: records deleted from the log, or rows inserted into the index`,
    });
  db.close();
  delete run.index;
}

/**
 * The WAL in the state directory holds the records accepted but not sealed yet. They are
 * not signed, but they will be: each line must match its hash, continue the seqs from the
 * log's tree size and link to the record before. A crash can leave a torn last write (the
 * writer drops it at open, as it was never acknowledged): a warning. Anything else is a finding
 * naming the file and line: the writer would refuse to open on it, or seal it.
 */
async function checkWal(run: VerifyRun): Promise<void> {
  const dir = run.opts.stateDir === undefined ? undefined : join(run.opts.stateDir, 'wal');
  if (dir === undefined || !existsSync(dir)) return;
  let seq = run.tree?.treeSize ?? 0;
  let head = run.head;
  for (const name of (await readdir(dir)).filter((n) => /^\d{12}\.wal$/.test(n)).sort()) {
    const file = join(dir, name);
    const bytes = await readFile(file);
    const { end, why } = acknowledgedEnd(bytes);
    if (why) run.warnings.push(`${file}: ${why} from byte ${end}: a write never acknowledged, dropped by the writer at its next open`);
    for (const e of scanLines(bytes.subarray(0, end))) {
      const at = { kind: 'wal' as const, key: file, line: e.line, ...(e.seq === undefined ? {} : { seq: e.seq }) };
      if (e.seq !== undefined && e.seq < seq) continue; // sealed already (a crash before the file was removed): the writer drops it
      if (!e.hashOk) {
        run.findings.push({
          ...at,
          message: `line ${e.line} of ${file} (seq ${e.seq ?? '?'}) was modified: its content does not match its hash`,
        });
      } else if (e.seq !== seq) {
        run.findings.push({
          ...at,
          message: `line ${e.line} of ${file} holds seq ${e.seq}, expected seq ${seq} (a record deleted, inserted or reordered)`,
        });
      } else if (head !== undefined && e.prevHash !== head) {
        run.findings.push({ ...at, message: `line ${e.line} of ${file} (seq ${e.seq}) does not chain to seq ${seq - 1}` });
      }
      seq = (e.seq ?? seq) + 1;
      head = e.hashOk ? e.actual : undefined;
    }
  }
}

/** The checks in the order they run; each reads what the ones before it found. */
export const VERIFY_STAGES: readonly VerifyStage[] = [
  listObjects,
  openIndex,
  walkLog,
  checkIndexRows,
  checkSegmentObjects,
  checkAnchors,
  checkWal,
  checkWitnesses,
];

/**
 * Verifies a whole log from its sink alone: every checkpoint's signature, the link and
 * RFC 9162 consistency proof between successive checkpoints, every segment's digest,
 * every record's hash and chain link, contiguous seqs, and each Merkle root recomputed
 * from the records. Nothing is trusted from the writer's local state.
 */
export async function verifyAuditLog(opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const run: VerifyRun = {
    opts,
    sink: opts.sink,
    findings: [],
    warnings: [],
    signedBy: new Set(),
    origin: opts.origin ?? null,
    checkpoints: [],
    segmentObjects: [],
    covered: new Set(),
    tree: null,
    head: hex(GENESIS_HASH),
    records: 0,
    segments: 0,
  };
  try {
    for (const stage of VERIFY_STAGES) await stage(run);
  } finally {
    run.index?.db.close();
  }
  return {
    ok: run.findings.length === 0,
    location: opts.sink.location,
    origin: run.origin,
    treeSize: run.tree?.treeSize ?? 0,
    rootHash: run.tree?.rootHash ?? null,
    records: run.records,
    segments: run.segments,
    checkpoints: run.checkpoints.length,
    signedBy: [...run.signedBy].sort(),
    findings: run.findings,
    warnings: run.warnings,
    ...(run.witnessed ? { witnessed: run.witnessed } : {}),
    elapsedMs: Math.round(performance.now() - started),
  };
}
