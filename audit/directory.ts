import { hash } from 'node:crypto';

/**
 * A segment's tenant directory: which seqs of the segment belong to which tenant, and the
 * time span of its records. Its root is signed with the segment's checkpoint (an extension
 * line of the C2SP checkpoint, see `directoryLine`), so an evidence bundle can prove it holds
 * *every* record of a tenant in a period: the segments whose span overlaps the period are
 * exactly those it must cover, and in each the signed directory names the tenant's seqs.
 *
 * The root commits to a sorted list of (SHA-256 of the tenant id, SHA-256 of the tenant's
 * seq list) pairs. A bundle carries that list, so a verifier sees one tenant's seqs and
 * learns of the others only how many there are per segment, not their names or records.
 */

export const DIRECTORY_TAG = 'charter.audit/segment';

export interface SegmentDirectory {
  /** Earliest and latest record `time` in the segment (ISO-8601 UTC, so string order is time order). */
  minTime: string;
  maxTime: string;
  /** Tenant id -> the tenant's seqs in the segment, ascending. */
  tenants: Record<string, number[]>;
}

/** One directory entry as a bundle carries it: base64 SHA-256 of the tenant id, and of its seq list. */
export type DirectoryEntry = [tenant: string, seqs: string];

const sha = (data: string | Buffer): Buffer => hash('sha256', data, 'buffer');

export const tenantHash = (tenant: string): string => sha(`tenant\n${tenant}`).toString('base64');
export const seqsHash = (seqs: number[]): string => sha(`seqs\n${seqs.join(',')}`).toString('base64');

export function directoryEntries(dir: SegmentDirectory): DirectoryEntry[] {
  return Object.entries(dir.tenants)
    .map(([tenant, seqs]): DirectoryEntry => [tenantHash(tenant), seqsHash(seqs)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function entriesRoot(entries: DirectoryEntry[]): string {
  return sha(entries.map(([t, s]) => `${t} ${s}\n`).join('')).toString('base64');
}

/** The signed extension line: `charter.audit/segment <first seq> <last seq> <min time> <max time> <directory root>`. */
export function directoryLine(firstSeq: number, lastSeq: number, dir: SegmentDirectory): string {
  return `${DIRECTORY_TAG} ${firstSeq} ${lastSeq} ${dir.minTime} ${dir.maxTime} ${entriesRoot(directoryEntries(dir))}`;
}

export interface SignedSegment {
  firstSeq: number;
  lastSeq: number;
  minTime: string;
  maxTime: string;
  root: string;
}

/** Reads the directory extension line of a checkpoint, if it has one. */
export function parseDirectoryLine(extensions: string[]): SignedSegment | undefined {
  for (const line of extensions) {
    const m = /^charter\.audit\/segment (\d+) (\d+) (\S+) (\S+) ([A-Za-z0-9+/]{43}=)$/.exec(line);
    if (m) return { firstSeq: Number(m[1]), lastSeq: Number(m[2]), minTime: m[3]!, maxTime: m[4]!, root: m[5]! };
  }
  return undefined;
}

const TENANT_KEY = Buffer.from(',"tenantId":');
/** Directory key of records without a tenant (evidence about releases, packs): tenant ids are never empty. */
export const NO_TENANT_KEY = '';
const TIME_KEY = Buffer.from(',"time":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const N = 0x6e;

/**
 * The top-level value of `key` in a canonical record line, without parsing the JSON: a string,
 * null, or undefined when absent or of another type. Canonical JSON sorts keys; every value
 * after `tenantId` and `time` (tier, tool, traceId) is a plain string, and a string's own
 * quotes are escaped, so the last occurrence is the top-level one.
 */
function topLevelString(buf: Buffer, start: number, end: number, key: Buffer): string | null | undefined {
  // Searched within the line: a search of the whole buffer would scan every earlier line when the key is absent.
  const found = buf.subarray(start, end).lastIndexOf(key);
  if (found < 0) return undefined;
  const at = start + found + key.length;
  if (buf[at] === N) return buf.toString('latin1', at, at + 4) === 'null' ? null : undefined;
  if (buf[at] !== QUOTE) return undefined;
  const from = at + 1;
  let i = from;
  let escaped = false;
  for (; i < end && buf[i] !== QUOTE; i++) {
    if (buf[i] === BACKSLASH) {
      escaped = true;
      i++;
    }
  }
  if (i >= end) return undefined;
  return escaped ? (JSON.parse(buf.toString('utf8', from - 1, i + 1)) as string) : buf.toString('utf8', from, i);
}

/** Builds a directory while records are read in seq order. */
export class DirectoryBuilder {
  private minTime = '';
  private maxTime = '';
  private readonly tenants = new Map<string, number[]>();
  private ok = true;

  /** Adds the record at `buf[start, end)` (a stored line) with its seq. */
  addLine(buf: Buffer, start: number, end: number, seq: number): void {
    // a null tenant is keyed ''
    const value = topLevelString(buf, start, end, TENANT_KEY);
    const tenant = value === null ? NO_TENANT_KEY : value;
    const time = topLevelString(buf, start, end, TIME_KEY);
    if (tenant === undefined || typeof time !== 'string') {
      this.ok = false;
      return;
    }
    if (this.minTime === '' || time < this.minTime) this.minTime = time;
    if (time > this.maxTime) this.maxTime = time;
    const seqs = this.tenants.get(tenant);
    if (seqs) seqs.push(seq);
    else this.tenants.set(tenant, [seq]);
  }

  /** The directory, or undefined when a line had no tenant or time (verify reports that line). */
  build(): SegmentDirectory | undefined {
    if (!this.ok || this.minTime === '') return undefined;
    return { minTime: this.minTime, maxTime: this.maxTime, tenants: Object.fromEntries(this.tenants) };
  }
}

/** The directory of a batch of stored lines whose first record has `firstSeq`. */
export function directoryOfLines(lines: string[], firstSeq: number): SegmentDirectory | undefined {
  const builder = new DirectoryBuilder();
  lines.forEach((line, i) => {
    const buf = Buffer.from(line, 'utf8');
    builder.addLine(buf, 0, buf.length, firstSeq + i);
  });
  return builder.build();
}

/** Whether a segment spanning [minTime, maxTime] can hold records of the period [from, to). */
export const overlaps = (span: { minTime: string; maxTime: string }, from: string | null, to: string | null): boolean =>
  (from === null || span.maxTime >= from) && (to === null || span.minTime < to);
