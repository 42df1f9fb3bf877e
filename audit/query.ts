import { FindingError, InputError } from '../common/index.js';
import { FILTER_COLUMNS, filterValues, type AuditQuery, type IndexedRecord } from './index-db.js';
import type { SealedRecord } from './record.js';
import { openReader, type AuditReadOptions, type AuditReader } from './reader.js';
import { readSegmentBlock } from './segment.js';
import { checkLineBytes } from './stored-line.js';

/** Normalises a CLI/API time bound to the ISO form records carry, so string order is time order. */
export function normaliseTime(value: string, field: string): string {
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new InputError(`not a date/time: '${value}'`, { field });
  return t.toISOString();
}

const tampered = (row: IndexedRecord, why: string): FindingError =>
  new FindingError(`the index row of seq ${row.seq} ${why}: the index was edited or is stale (charter audit verify, then reindex)`, {
    file: row.segment,
  });

/**
 * Reads the records the index names from their sealed segments, one gzip member each (each
 * member once), and checks each against its row: the stored line matches its own hash and
 * the row's, and the record matches every filter. What a query shows is therefore what is
 * sealed; an edited row can at most make the query fail, and `verify` finds rows that hide a record.
 */
export async function readSealed(reader: AuditReader, rows: IndexedRecord[], filter: AuditQuery = {}): Promise<SealedRecord[]> {
  const blocks = new Map<string, Promise<Buffer[]>>();
  const linesOf = (row: IndexedRecord): Promise<Buffer[]> => {
    const at = `${row.segment}@${row.offset}`;
    let lines = blocks.get(at);
    if (!lines) blocks.set(at, (lines = readSegmentBlock(reader.sink, row.segment, row)));
    return lines;
  };
  const out: SealedRecord[] = [];
  for (const row of rows) {
    const line = (await linesOf(row))[row.seq - row.firstSeq];
    const check = line === undefined ? undefined : checkLineBytes(line, 0, line.length);
    if (!check || check.actual !== check.claimed || check.actual !== row.hash.toString('hex'))
      throw tampered(
        row,
        `does not match the record sealed at line ${row.seq - row.firstSeq + 1} of the member at byte ${row.offset} of ${row.segment}`,
      );
    const record = JSON.parse(line!.toString('utf8')) as SealedRecord;
    if (record.seq !== row.seq) throw tampered(row, `points at seq ${record.seq}`);
    const values = filterValues(record);
    for (const key of FILTER_COLUMNS) {
      if (filter[key] !== undefined && values[key] !== filter[key])
        throw tampered(row, `claims ${key} ${filter[key]}, the sealed record has ${values[key]}`);
    }
    if ((filter.from !== undefined && record.time < filter.from) || (filter.to !== undefined && record.time >= filter.to))
      throw tampered(row, `claims a time in the range, the sealed record has ${record.time}`);
    if (filter.after !== undefined) {
      const { time, seq } = filter.after;
      const later = record.time > time || (record.time === time && record.seq > seq);
      const earlier = record.time < time || (record.time === time && record.seq < seq);
      if (!(filter.order === 'desc' ? earlier : later))
        throw tampered(row, `claims a place after the page cursor (${time}, seq ${seq}), the sealed record has ${record.time}`);
    }
    out.push(record);
  }
  return out;
}

/** Records matching every given filter, in time order: located by the (synced) index, read from the sealed segments. */
export async function queryAudit(opts: AuditReadOptions & AuditQuery): Promise<SealedRecord[]> {
  const { dir: _dir, sink: _sink, ...filter } = opts;
  if (filter.from !== undefined) filter.from = normaliseTime(filter.from, 'from');
  if (filter.to !== undefined) filter.to = normaliseTime(filter.to, 'to');
  if (filter.limit !== undefined && (!Number.isInteger(filter.limit) || filter.limit < 1))
    throw new InputError('limit must be a positive integer', { field: 'limit' });
  if (filter.after !== undefined) {
    if (!Number.isInteger(filter.after.seq) || filter.after.seq < 0)
      throw new InputError('after.seq must be a non-negative integer', { field: 'after.seq' });
    filter.after = { time: normaliseTime(filter.after.time, 'after.time'), seq: filter.after.seq };
  }
  const reader = await openReader(opts);
  try {
    return await readSealed(reader, reader.index.query(filter), filter);
  } finally {
    reader.close();
  }
}
