import { promisify } from 'node:util';
import { gunzip, gunzipSync, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { z } from 'zod';
import { FindingError, parseJson, validateWith } from '../common/index.js';
import { digestOf } from '../signing/index.js';
import type { SegmentBlock } from './segment-encode.js';
import type { SegmentSink } from './sinks/sink.js';
import { NOT_GZIP, wholeTextGunzip } from './stored-line.js';

/**
 * Storage layout, the same on every sink:
 *   segments/dt=<YYYY-MM-DD of the first record>/<first seq>-<last seq>.jsonl.gz
 *       gzip JSONL, one sealed record per line (Athena reads it as is), written as one gzip
 *       member per BLOCK_RECORDS lines (segment-encode.ts): a reader gunzips only the member holding a record
 *   checkpoints/<tree size>.json
 *       the segment's companion: the Merkle root of the whole log after the segment,
 *       the signed C2SP checkpoint, the link to the previous checkpoint with an RFC 9162
 *       consistency proof, and the tree frontier the writer resumes from.
 * Numbers are zero-padded to 12 digits so key order is log order.
 */

export const SEGMENTS_PREFIX = 'segments/';
export const CHECKPOINTS_PREFIX = 'checkpoints/';

/** A tree size or seq as it appears in object keys. */
export const padSize = (n: number): string => String(n).padStart(12, '0');

export const segmentKey = (firstSeq: number, lastSeq: number, firstTime: string): string =>
  `${SEGMENTS_PREFIX}dt=${firstTime.slice(0, 10)}/${padSize(firstSeq)}-${padSize(lastSeq)}.jsonl.gz`;

export const checkpointKey = (treeSize: number): string => `${CHECKPOINTS_PREFIX}${padSize(treeSize)}.json`;

/**
 * The n-th alternative of an object key (n = 0: the key itself): `<name>.<n>.json`,
 * `<name>.<n>.jsonl.gz`. The writer stores a segment or checkpoint at the first alternative
 * that nobody else's object occupies (seal.ts), and a checkpoint names its segment's key, so
 * an object planted where the log would write next never stops it; verify reports it.
 */
export const alternativeKey = (key: string, n: number): string => (n === 0 ? key : key.replace(/(\.jsonl\.gz|\.json)$/, `.${n}$1`));

export const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected a base64 SHA-256 hash');

/**
 * A tenant's seqs in a segment: thousands of numbers per checkpoint, checked in one loop
 * (zod's per-element array check took most of a checkpoint's read: 17 ms of 23 for 10,000
 * seqs at load 8, paid once per checkpoint by verify and export and once by every prove).
 */
const SeqList = z.custom<number[]>(
  (v) => Array.isArray(v) && v.every((n) => Number.isSafeInteger(n) && (n as number) >= 0),
  'expected an array of non-negative integer seqs',
);

const SegmentDirectory = z.object({
  minTime: z.string().min(1),
  maxTime: z.string().min(1),
  tenants: z.record(z.string(), SeqList),
});

export const CheckpointMeta = z.object({
  format: z.literal('charter.audit.checkpoint/v1'),
  origin: z.string().min(1),
  treeSize: z.number().int().positive(),
  rootHash: Base64Hash,
  segment: z.object({
    key: z.string().min(1),
    firstSeq: z.number().int().nonnegative(),
    lastSeq: z.number().int().nonnegative(),
    sha256: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    lastHash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  }),
  previous: z.object({ treeSize: z.number().int().positive(), rootHash: Base64Hash }).nullable(),
  consistencyProof: z.array(Base64Hash),
  frontier: z.array(Base64Hash),
  /** The segment's tenant directory; its root is in the note's extension line (absent in logs sealed before it existed). */
  directory: SegmentDirectory.optional(),
  /** The signed note (C2SP checkpoint). */
  note: z.string().min(1),
});
export type CheckpointMeta = z.infer<typeof CheckpointMeta>;

// The fixed 10-byte header zlib writes (no name, comment or extra field) and the 8-byte trailer.
const GZIP_HEADER = 10;
const GZIP_TRAILER = 8;
const plainHeader = (bytes: Uint8Array, at: number): boolean =>
  bytes[at] === 0x1f && bytes[at + 1] === 0x8b && bytes[at + 2] === 8 && bytes[at + 3] === 0;

/** Inflates the member at `at`: its text and how many bytes it takes (header, deflate data, trailer). */
function inflateMember(bytes: Buffer, at: number): { text: Buffer; length: number } {
  const out = inflateRawSync(bytes.subarray(at + GZIP_HEADER), { info: true } as ZlibOptions) as unknown as {
    buffer: Buffer;
    engine: { bytesWritten: number };
  };
  return { text: out.buffer, length: GZIP_HEADER + out.engine.bytesWritten + GZIP_TRAILER };
}

const splitLines = (text: string): string[] => (text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n'));

/**
 * A segment's lines and its members, for the index. A segment written otherwise (one member,
 * as before blocks, or a header with optional fields) is one block: readers then gunzip all of it.
 */
export async function decodeSegmentBlocks(bytes: Uint8Array, key: string): Promise<{ lines: string[]; blocks: SegmentBlock[] }> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const whole = async () => ({ lines: await decodeSegment(buf, key), blocks: [{ offset: 0, length: buf.length, firstLine: 0 }] });
  const lines: string[] = [];
  const blocks: SegmentBlock[] = [];
  try {
    for (let at = 0; at < buf.length;) {
      if (!plainHeader(buf, at)) return await whole();
      const { text, length } = inflateMember(buf, at);
      blocks.push({ offset: at, length, firstLine: lines.length });
      for (const line of splitLines(text.toString('utf8'))) lines.push(line);
      at += length;
    }
  } catch {
    return whole(); // names the segment as not gzip if it is not
  }
  return { lines, blocks };
}

/** Lines of gunzipped segment text, as views into it (no copies). */
function lineViews(text: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start < text.length;) {
    const nl = text.indexOf(0x0a, start);
    const end = nl < 0 ? text.length : nl;
    lines.push(text.subarray(start, end));
    start = end + 1;
  }
  return lines;
}

/**
 * The lines of one member of a segment, read alone (a range read on S3) and gunzipped on
 * this thread: a member is about 10 KB, less than a thread-pool round trip costs.
 */
export async function readSegmentBlock(sink: SegmentSink, key: string, block: { offset: number; length: number }): Promise<Buffer[]> {
  const bytes = await sink.get(key, block);
  if (!bytes) throw new FindingError('segment named by the index is missing', { file: key });
  if (bytes.length !== block.length)
    throw new FindingError(`segment is shorter than the index says (${bytes.length} of ${block.length} bytes at ${block.offset})`, {
      file: key,
    });
  try {
    return lineViews(gunzipSync(bytes));
  } catch {
    throw new FindingError(`${NOT_GZIP} at byte ${block.offset}`, { file: key });
  }
}

export async function gunzipSegment(bytes: Uint8Array, key: string): Promise<Buffer> {
  try {
    return await promisify(gunzip)(bytes, wholeTextGunzip(bytes.length));
  } catch {
    throw new FindingError(NOT_GZIP, { file: key });
  }
}

export async function decodeSegment(bytes: Uint8Array, key: string): Promise<string[]> {
  return splitLines((await gunzipSegment(bytes, key)).toString('utf8'));
}

export function segmentDigest(bytes: Uint8Array): string {
  return digestOf(bytes);
}

export async function readCheckpointMeta(sink: SegmentSink, key: string): Promise<CheckpointMeta> {
  const bytes = await sink.get(key);
  if (!bytes) throw new FindingError('checkpoint object is missing', { file: key });
  return parseCheckpointMeta(bytes, key);
}

const parseCheckpointMeta = (bytes: Uint8Array, key: string): CheckpointMeta =>
  validateWith(CheckpointMeta, parseJson(Buffer.from(bytes).toString('utf8'), key), key);

/** Tree size encoded in a checkpoint key, or undefined when the key is not a checkpoint. */
export function treeSizeOfKey(key: string): number | undefined {
  const m = /^checkpoints\/(\d{12})(?:\.\d+)?\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/**
 * The checkpoint object for `treeSize` that `accept` takes (signed by the log's key, or linked
 * from the next one), among the key and its alternatives: someone else's object at the key
 * is passed over. Throws naming the key when none is taken.
 */
export async function readCheckpointAt(
  sink: SegmentSink,
  treeSize: number,
  accept: (meta: CheckpointMeta, key: string) => boolean,
): Promise<CheckpointMeta> {
  const first = checkpointKey(treeSize);
  for (let n = 0; ; n++) {
    const key = alternativeKey(first, n);
    const bytes = await sink.get(key);
    if (bytes === undefined && n > 0) break; // the writer fills the alternatives in order
    let meta: CheckpointMeta | undefined;
    try {
      meta = bytes && parseCheckpointMeta(bytes, key);
    } catch {
      continue; // not a checkpoint at all: someone else's object
    }
    if (meta && meta.treeSize === treeSize && accept(meta, key)) return meta;
  }
  throw new FindingError(`no checkpoint object of this log for tree size ${treeSize}`, { file: first });
}

/** Checkpoint keys in log order. */
export async function listCheckpointKeys(
  sink: SegmentSink,
): Promise<Array<{ key: string; treeSize: number; warnings: string[]; findings: string[] }>> {
  const out = [];
  for (const o of await sink.list(CHECKPOINTS_PREFIX)) {
    const treeSize = treeSizeOfKey(o.key);
    if (treeSize !== undefined) out.push({ key: o.key, treeSize, warnings: o.warnings, findings: o.findings ?? [] });
  }
  return out.sort((a, b) => a.treeSize - b.treeSize);
}

export async function latestCheckpoint(sink: SegmentSink): Promise<CheckpointMeta | undefined> {
  const keys = await listCheckpointKeys(sink);
  const last = keys[keys.length - 1];
  return last ? readCheckpointMeta(sink, last.key) : undefined;
}
