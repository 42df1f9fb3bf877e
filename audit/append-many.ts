import type { AuditLog } from './log.js';
import type { AuditRecord } from './record.js';

/**
 * Appends a stream of records keeping up to `inFlight` appends pending, so one group commit
 * carries many records. Calls `onAck` as each is acknowledged; returns how many were. If the
 * source throws (e.g. a malformed input line), appends already started are awaited first.
 */
export async function appendMany(
  log: AuditLog,
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  opts: { inFlight: number; onAck?: (record: AuditRecord, seq: number) => void },
): Promise<number> {
  const pending = new Set<Promise<void>>();
  let acknowledged = 0;
  try {
    for await (const record of records) {
      const p: Promise<void> = log.append(record).then(({ seq }) => {
        acknowledged++;
        opts.onAck?.(record, seq);
        pending.delete(p);
      });
      pending.add(p);
      if (pending.size >= opts.inFlight) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    await Promise.allSettled(pending);
  }
  return acknowledged;
}
