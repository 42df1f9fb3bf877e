import type { StatementSync } from 'node:sqlite';
import { inTransaction, openSqlite, type SqliteDatabase } from '../common/index.js';
import type { SealedRecord } from './record.js';

/**
 * The read-side index: one SQLite row per sealed record, derived from the segments only,
 * so it can be deleted and rebuilt at any time (`charter audit reindex`). It also answers
 * the writer's "is this id already in the log?" for sealed records.
 */

export interface AuditQuery {
  tenant?: string;
  agent?: string;
  tool?: string;
  decision?: 'allow' | 'deny';
  tier?: string;
  kind?: 'decision' | 'evidence';
  traceId?: string;
  manifestDigest?: string;
  /** Inclusive lower bound, ISO-8601 UTC. */
  from?: string;
  /** Exclusive upper bound, ISO-8601 UTC. */
  to?: string;
  limit?: number;
}

export interface IndexedRecord {
  record: SealedRecord;
  line: string;
  segment: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, time TEXT NOT NULL,
  tenant TEXT, agent TEXT, tool TEXT, decision TEXT, tier TEXT, trace_id TEXT, run_id TEXT,
  manifest_digest TEXT, hash TEXT NOT NULL, segment TEXT NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_tenant_time ON records(tenant, time);
CREATE INDEX IF NOT EXISTS records_agent_time ON records(agent, time);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE INDEX IF NOT EXISTS records_trace ON records(trace_id);
CREATE INDEX IF NOT EXISTS records_manifest ON records(manifest_digest);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

const COLUMNS: Record<keyof Omit<AuditQuery, 'from' | 'to' | 'limit'>, string> = {
  tenant: 'tenant',
  agent: 'agent',
  tool: 'tool',
  decision: 'decision',
  tier: 'tier',
  kind: 'kind',
  traceId: 'trace_id',
  manifestDigest: 'manifest_digest',
};

export class AuditIndex {
  private readonly insertStmt: StatementSync;
  private readonly idStmt: StatementSync;

  private constructor(private readonly db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO records (seq, id, kind, time, tenant, agent, tool, decision, tier, trace_id, run_id, manifest_digest, hash, segment, line)
       VALUES (@seq, @id, @kind, @time, @tenant, @agent, @tool, @decision, @tier, @traceId, @runId, @manifestDigest, @hash, @segment, @line)`,
    );
    this.idStmt = db.prepare('SELECT seq FROM records WHERE id = ?');
  }

  static open(file: string): AuditIndex {
    const db = openSqlite(file, { busyTimeoutMs: 10_000 });
    db.exec(SCHEMA);
    return new AuditIndex(db);
  }

  /** Tree size up to which the index holds every record (0 when empty). */
  syncedTreeSize(): number {
    const row = this.db.prepare("SELECT value FROM state WHERE key = 'treeSize'").get() as { value: number } | undefined;
    return row?.value ?? 0;
  }

  seqOfId(id: string): number | undefined {
    return (this.idStmt.get(id) as { seq: number } | undefined)?.seq;
  }

  /** Adds one sealed segment's records and advances the synced tree size, atomically. */
  addSegment(segment: string, records: Array<{ record: SealedRecord; line: string }>, treeSize: number): void {
    inTransaction(this.db, () => {
      for (const { record: r, line } of records) {
        const d = r.kind === 'decision' ? r : undefined;
        this.insertStmt.run({
          seq: r.seq,
          id: r.id,
          kind: r.kind,
          time: r.time,
          tenant: r.tenantId,
          agent: d?.agentId ?? null,
          tool: d?.tool ?? null,
          decision: d?.decision ?? null,
          tier: d?.tier ?? null,
          traceId: r.traceId,
          runId: r.runId,
          manifestDigest: r.kind === 'decision' ? r.manifestDigest : /^sha256:[0-9a-f]{64}$/.test(r.subject) ? r.subject : null,
          hash: r.hash,
          segment,
          line,
        });
      }
      this.db
        .prepare("INSERT INTO state (key, value) VALUES ('treeSize', ?) ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)")
        .run(treeSize);
    });
  }

  query(q: AuditQuery): IndexedRecord[] {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    for (const [key, column] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, string]>) {
      const value = q[key];
      if (value !== undefined) {
        where.push(`${column} = @${key}`);
        params[key] = value;
      }
    }
    if (q.from !== undefined) {
      where.push('time >= @from');
      params.from = q.from;
    }
    if (q.to !== undefined) {
      where.push('time < @to');
      params.to = q.to;
    }
    params.limit = q.limit ?? -1;
    const sql = `SELECT line, segment FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time, seq LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as Array<{ line: string; segment: string }>).map((row) => ({
      record: JSON.parse(row.line) as SealedRecord,
      line: row.line,
      segment: row.segment,
    }));
  }

  getById(id: string): IndexedRecord | undefined {
    const row = this.db.prepare('SELECT line, segment FROM records WHERE id = ?').get(id) as { line: string; segment: string } | undefined;
    return row ? { record: JSON.parse(row.line) as SealedRecord, line: row.line, segment: row.segment } : undefined;
  }

  /** Record hashes in seq order for the first `treeSize` records (the Merkle leaves' inputs). */
  hashes(treeSize: number): string[] {
    return (this.db.prepare('SELECT hash FROM records WHERE seq < ? ORDER BY seq').all(treeSize) as Array<{ hash: string }>).map(
      (row) => row.hash,
    );
  }

  /** Drops every row: the next sync rebuilds the index from the segments. */
  reset(): void {
    this.db.exec('DELETE FROM records; DELETE FROM state;');
  }

  close(): void {
    this.db.close();
  }
}
