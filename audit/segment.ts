import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { z } from 'zod';
import { FindingError, parseJson, validateWith } from '../common/index.js';
import { digestOf } from '../signing/index.js';
import type { SegmentSink } from './sinks/sink.js';
import { NOT_GZIP } from './stored-line.js';

/**
 * Storage layout, the same on every sink:
 *   segments/dt=<YYYY-MM-DD of the first record>/<first seq>-<last seq>.jsonl.gz
 *       gzip JSONL, one sealed record per line (Athena reads it as is)
 *   checkpoints/<tree size>.json
 *       the segment's companion: the Merkle root of the whole log after the segment,
 *       the signed C2SP checkpoint, the link to the previous checkpoint with an RFC 9162
 *       consistency proof, and the tree frontier the writer resumes from.
 * Numbers are zero-padded to 12 digits so key order is log order.
 */

export const SEGMENTS_PREFIX = 'segments/';
export const CHECKPOINTS_PREFIX = 'checkpoints/';

const pad = (n: number): string => String(n).padStart(12, '0');

export const segmentKey = (firstSeq: number, lastSeq: number, firstTime: string): string =>
  `${SEGMENTS_PREFIX}dt=${firstTime.slice(0, 10)}/${pad(firstSeq)}-${pad(lastSeq)}.jsonl.gz`;

export const checkpointKey = (treeSize: number): string => `${CHECKPOINTS_PREFIX}${pad(treeSize)}.json`;

export const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected a base64 SHA-256 hash');

const SegmentDirectory = z.object({
  minTime: z.string().min(1),
  maxTime: z.string().min(1),
  tenants: z.record(z.string(), z.array(z.number().int().nonnegative())),
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

export async function encodeSegment(lines: string[]): Promise<Buffer> {
  return promisify(gzip)(Buffer.from(lines.join('\n') + '\n', 'utf8'));
}

export async function gunzipSegment(bytes: Uint8Array, key: string): Promise<Buffer> {
  try {
    return await promisify(gunzip)(bytes);
  } catch {
    throw new FindingError(NOT_GZIP, { file: key });
  }
}

export async function decodeSegment(bytes: Uint8Array, key: string): Promise<string[]> {
  const text = (await gunzipSegment(bytes, key)).toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
}

export function segmentDigest(bytes: Uint8Array): string {
  return digestOf(bytes);
}

export async function readCheckpointMeta(sink: SegmentSink, key: string): Promise<CheckpointMeta> {
  const bytes = await sink.get(key);
  if (!bytes) throw new FindingError('checkpoint object is missing', { file: key });
  return validateWith(CheckpointMeta, parseJson(Buffer.from(bytes).toString('utf8'), key), key);
}

/** Tree size encoded in a checkpoint key, or undefined when the key is not a checkpoint. */
export function treeSizeOfKey(key: string): number | undefined {
  const m = /^checkpoints\/(\d{12})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
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
