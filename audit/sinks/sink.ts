import { FindingError } from '../../common/index.js';

/**
 * Where sealed segments and checkpoints are stored. Keys are `/`-separated paths
 * (see audit/README.md for the layout); a sink never overwrites what it stored: the local
 * directory refuses, S3 Object Lock keeps the original version locked.
 */
export interface SinkObject {
  key: string;
  /** Anything odd the store reports about the object that does not change what is verified (extra versions). */
  warnings: string[];
  /** Signs of an attack on the object itself that verify reports as findings (a delete marker on a locked object). */
  findings?: string[];
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface SegmentSink {
  /** Human-readable location, e.g. a directory or s3://bucket/prefix. */
  readonly location: string;
  /** Checks the store before the first write (S3: the bucket's Object Lock configuration). */
  open(): Promise<void>;
  /** Stores an object durably. Storing identical bytes again under the same key is a no-op. */
  put(key: string, body: Uint8Array): Promise<void>;
  /**
   * The object as first stored, or undefined when there is none; with `range`, only those
   * bytes (fewer when the object ends before them).
   */
  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<SinkObject[]>;
}

/**
 * `put` found another object under the key (a different body): never overwritten. The writer
 * stores its object at the key's next alternative instead (segment.ts `alternativeKey`), so an
 * object someone else put where the log would write is a finding for verify, never a stop.
 */
export class OccupiedKeyError extends FindingError {}
