import { InputError } from '../common/index.js';
import type { AuditQuery } from './index-db.js';
import type { SealedRecord } from './record.js';
import { openReader, type AuditReadOptions } from './reader.js';

/** Normalises a CLI/API time bound to the ISO form records carry, so string order is time order. */
export function normaliseTime(value: string, field: string): string {
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new InputError(`not a date/time: '${value}'`, { field });
  return t.toISOString();
}

/** Records matching every given filter, in time order, from the (synced) index. */
export async function queryAudit(opts: AuditReadOptions & AuditQuery): Promise<SealedRecord[]> {
  const { dir: _dir, sink: _sink, ...filter } = opts;
  if (filter.from !== undefined) filter.from = normaliseTime(filter.from, 'from');
  if (filter.to !== undefined) filter.to = normaliseTime(filter.to, 'to');
  if (filter.limit !== undefined && (!Number.isInteger(filter.limit) || filter.limit < 1))
    throw new InputError('limit must be a positive integer', { field: 'limit' });
  const reader = await openReader(opts);
  try {
    return reader.index.query(filter).map((r) => r.record);
  } finally {
    reader.close();
  }
}
