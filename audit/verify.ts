import { errorMessage } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { availableParallelism } from 'node:os';
import { GENESIS_HASH } from './chain.js';
import { noteExtensions, verifyCheckpoint } from './checkpoint.js';
import { DIRECTORY_TAG } from './directory.js';
import { MerkleFrontier, verifyConsistency } from './merkle.js';
import { checkSegment, type SegmentJob, type SegmentResult } from './segment-check.js';
import { listCheckpointKeys, readCheckpointMeta, SEGMENTS_PREFIX, segmentDigest, type CheckpointMeta } from './segment.js';
import type { SegmentSink } from './sinks/sink.js';
import { WorkerPool } from './threads.js';
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
  | 'directory';

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
  /**
   * The writer's local state directory: the newest checkpoint it sealed (its witness, see
   * witness.ts) must still be in the log, which detects truncation without an anchor.
   */
  stateDir?: string;
}

const hex = (digest: string): string => digest.slice(7);

interface Prepared {
  key: string;
  error?: string;
  meta?: CheckpointMeta;
  job?: SegmentJob;
  result?: Promise<SegmentResult>;
}

/**
 * Verifies a whole log from its sink alone: every checkpoint's signature, the link and
 * RFC 9162 consistency proof between successive checkpoints, every segment's digest,
 * every record's hash and chain link, contiguous seqs, and each Merkle root recomputed
 * from the records. Nothing is trusted from the writer's local state.
 *
 * Segments are checked on worker threads, several at once. Each starts from what the
 * previous checkpoint says (its frontier and last record hash); the walk in log order then
 * confirms that guess against what the previous segment actually held, and checks a segment
 * again on this thread in the rare case (tampering) where the two differ, so the findings
 * are exactly those of a one-by-one walk.
 */
export async function verifyAuditLog(opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const { sink } = opts;
  const findings: VerifyFinding[] = [];
  const warnings: string[] = [];
  const signedBy = new Set<string>();
  let origin: string | null = opts.origin ?? null;
  let previous: { treeSize: number; rootHash: string } | null = null;
  let head: string | undefined = hex(GENESIS_HASH);
  let records = 0;
  let segments = 0;
  const covered = new Set<string>();

  const checkpoints = await listCheckpointKeys(sink);
  // Nothing to verify is not a pass: a wrong path, a wiped directory or an emptied bucket looks just like this.
  if (checkpoints.length === 0)
    findings.push({ kind: 'empty', message: `${sink.location} holds no checkpoint: the log is empty, missing or was deleted` });
  const threads = Math.min(availableParallelism(), Math.max(1, checkpoints.length));
  const pool = new WorkerPool<SegmentJob, SegmentResult>('verify-worker.js', threads, checkSegment);
  // What the walk expects before each segment when nothing is wrong: the last readable checkpoint's state.
  let expected: { head: string; before: SegmentJob['before'] } = { head: hex(GENESIS_HASH), before: { size: 0, nodes: [] } };
  const prepare = async (key: string): Promise<Prepared> => {
    let meta: CheckpointMeta;
    try {
      meta = await readCheckpointMeta(sink, key);
    } catch (err) {
      return { key, error: errorMessage(err) };
    }
    const bytes = await sink.get(meta.segment.key);
    const job = bytes && {
      bytes,
      checkpointKey: key,
      meta: { treeSize: meta.treeSize, rootHash: meta.rootHash, segment: meta.segment },
      ...expected,
      directoryLine: noteExtensions(meta.note).find((l) => l.startsWith(`${DIRECTORY_TAG} `)),
    };
    expected = { head: hex(meta.segment.lastHash), before: { size: meta.treeSize, nodes: meta.frontier } };
    if (!job) return { key, meta };
    const result = pool.run(job);
    result.catch(() => undefined); // awaited in turn, or not at all when the walk checks the segment itself
    return { key, meta, job, result };
  };
  // Keep every worker busy with the next segments while this walk checks the current one.
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
  try {
    for (let i = 0; i < 2 * threads; i++) queue(i);
    for (const [i, cp] of checkpoints.entries()) {
      for (const w of cp.warnings) warnings.push(`${cp.key}: ${w}`);
      for (const f of cp.findings) findings.push({ kind: 'store', key: cp.key, message: `${cp.key}: ${f}` });
      const loaded = await ahead.shift()!;
      queue(i + 2 * threads);
      if (!loaded.meta) {
        findings.push({ kind: 'checkpoint', key: cp.key, message: `unreadable checkpoint: ${loaded.error}` });
        continue;
      }
      const { meta, job } = loaded;
      const where = { key: cp.key };
      try {
        const note = verifyCheckpoint(meta.note, opts.trustedKeys, cp.key);
        signedBy.add(note.signedBy.name);
        if (note.treeSize !== meta.treeSize || note.rootHash.toString('base64') !== meta.rootHash || note.origin !== meta.origin) {
          findings.push({
            kind: 'checkpoint',
            ...where,
            message: `${cp.key}: the signed note does not match the checkpoint's tree size, root or origin`,
          });
        }
      } catch (err) {
        findings.push({ kind: 'checkpoint', ...where, message: errorMessage(err) });
      }
      origin ??= meta.origin;
      if (meta.origin !== origin)
        findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: origin '${meta.origin}', expected '${origin}'` });
      if (meta.treeSize !== cp.treeSize)
        findings.push({ kind: 'checkpoint', ...where, message: `${cp.key} holds tree size ${meta.treeSize}` });
      if (
        MerkleFrontier.restore(
          meta.treeSize,
          meta.frontier.map((h) => Buffer.from(h, 'base64')),
        )
          .root()
          .toString('base64') !== meta.rootHash
      ) {
        findings.push({ kind: 'checkpoint', ...where, message: `${cp.key}: stored frontier does not hash to the root` });
      }
      const expectedFirst = previous?.treeSize ?? 0;
      if (meta.segment.firstSeq > expectedFirst) {
        findings.push({
          kind: 'deleted',
          ...where,
          message: `records ${expectedFirst}..${meta.segment.firstSeq - 1} are missing before ${cp.key}: a checkpoint or segment was deleted`,
        });
      } else if (meta.segment.firstSeq < expectedFirst || meta.segment.lastSeq !== meta.treeSize - 1) {
        findings.push({
          kind: 'inserted',
          ...where,
          message: `${cp.key} covers seq ${meta.segment.firstSeq}..${meta.segment.lastSeq}, overlapping the log so far (ends at seq ${expectedFirst - 1})`,
        });
      }
      if (JSON.stringify(meta.previous) !== JSON.stringify(previous)) {
        findings.push({
          kind: 'checkpoint',
          ...where,
          message: `${cp.key} does not link to the previous checkpoint (tree size ${previous?.treeSize ?? 'none'})`,
        });
      }

      covered.add(meta.segment.key);
      segments++;
      let root: string | undefined;
      if (!job) {
        findings.push({
          kind: 'deleted',
          key: meta.segment.key,
          message: `segment ${meta.segment.key} (records ${meta.segment.firstSeq}..${meta.segment.lastSeq}) is missing (deleted)`,
        });
      } else {
        if (segmentDigest(job.bytes) !== meta.segment.sha256) {
          findings.push({
            kind: 'segment',
            key: meta.segment.key,
            message: `segment ${meta.segment.key} does not match the digest recorded in ${cp.key}`,
          });
        }
        const result: SegmentResult = job.head === head ? await loaded.result! : checkSegment({ ...job, head });
        findings.push(...result.findings);
        records += result.records ?? 0;
        root = result.root;
        head = result.head;
      }
      if (previous) {
        const ok = verifyConsistency(
          previous.treeSize,
          meta.treeSize,
          Buffer.from(previous.rootHash, 'base64'),
          Buffer.from(meta.rootHash, 'base64'),
          meta.consistencyProof.map((h) => Buffer.from(h, 'base64')),
        );
        if (!ok)
          findings.push({
            kind: 'consistency',
            ...where,
            message: `${cp.key}: no valid consistency proof from tree size ${previous.treeSize} to ${meta.treeSize}`,
          });
      }
      // Continue from the signed state so one bad segment does not hide problems in later ones.
      if (root !== meta.rootHash) head = hex(meta.segment.lastHash);
      previous = { treeSize: meta.treeSize, rootHash: meta.rootHash };
    }
  } finally {
    await Promise.allSettled(ahead);
    await pool.close();
  }

  for (const o of await sink.list(SEGMENTS_PREFIX)) {
    for (const w of o.warnings) warnings.push(`${o.key}: ${w}`);
    for (const f of o.findings ?? []) findings.push({ kind: 'store', key: o.key, message: `${o.key}: ${f}` });
    if (!covered.has(o.key))
      findings.push({ kind: 'inserted', key: o.key, message: `segment ${o.key} is not covered by any checkpoint (inserted)` });
  }

  const anchors: Array<{ note: string; from: string }> = [];
  if (opts.anchor) anchors.push({ note: opts.anchor, from: 'the anchor checkpoint' });
  const witness = opts.stateDir === undefined ? undefined : readWitness(opts.stateDir);
  if (witness !== undefined) anchors.push({ note: witness, from: `the checkpoint recorded in ${witnessFile(opts.stateDir!)}` });
  for (const { note, from } of anchors) {
    try {
      const anchor = verifyCheckpoint(note, opts.trustedKeys, from);
      const match = checkpoints.find((c) => c.treeSize === anchor.treeSize);
      const meta = match ? await readCheckpointMeta(sink, match.key) : undefined;
      if (!meta || meta.rootHash !== anchor.rootHash.toString('base64')) {
        findings.push({
          kind: 'anchor',
          message: `the log no longer contains ${from}, of tree size ${anchor.treeSize} (truncated or rewritten)`,
        });
      }
    } catch (err) {
      findings.push({ kind: 'anchor', message: `${from}: ${errorMessage(err)}` });
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
