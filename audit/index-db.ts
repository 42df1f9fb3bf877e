import type { StatementSync } from 'node:sqlite';
import { inTransaction, openSqlite, type SqliteDatabase } from '../common/index.js';
import { extendTree, type TreeStore } from './index-tree.js';
import { filterValues, type FilterColumn } from './index-columns.js';
import type { SealedRecord } from './record.js';
import type { SegmentBlock } from './segment-encode.js';

export { FILTER_COLUMNS, filterValues } from './index-columns.js';

/**
 * The read-side index: one SQLite row per sealed record with the columns queries filter on,
 * its hash and where it is sealed, derived from the segments only, so it can be deleted and
 * rebuilt at any time (`charter audit reindex`). It holds no record content: a query reads
 * the records from their sealed segments and checks them against the row (query.ts), so an
 * edited row cannot change what a query shows. It also keeps the Merkle tree's larger nodes
 * (index-tree.ts) for fast proofs, and answers the writer's "is this id already in the log?".
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
  /** `asc` (default): oldest first; `desc`: newest first (a trail viewer's first page). */
  order?: 'asc' | 'desc';
  /**
   * Keyset paging: only records after this one in the chosen order (its time and seq, as the
   * last record of the previous page has them). Walks the same index as the first page, so a
   * page costs the same at any depth (no OFFSET).
   */
  after?: { time: string; seq: number };
}

/** Where an indexed record is sealed: its segment, the gzip member holding it, and its hash (raw 32 bytes). */
export interface IndexedRecord {
  seq: number;
  hash: Buffer;
  segment: string;
  /** The member's byte range in the segment and the seq of its first line. */
  offset: number;
  length: number;
  firstSeq: number;
}

/** A row as verify compares it with its sealed record (verify.ts). */
export interface IndexRow {
  seq: number;
  id: string;
  time: string;
  hash: Buffer;
  segment: string;
  values: Record<FilterColumn, string | null>;
}

/** Bumped when the layout changes: an older index is dropped and rebuilt from the segments. */
const SCHEMA_VERSION = 3;

// About 250 bytes a record instead of 800: repeated strings (tenant, agent, tool, tier,
// decision, kind, manifest digest) are numbers into `names`, times are epoch milliseconds
// (records carry ISO-8601 UTC with milliseconds, so nothing is lost), and the run id, which
// no filter uses, is not kept. Every filter the CLI offers has an index that walks in time
// order, so `ORDER BY time LIMIT n` stops after n rows instead of scanning the log (a tool
// that appears rarely cost 773 ms at 1 M).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, first_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY, segment INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, first_seq INTEGER NOT NULL,
  UNIQUE (segment, offset));
CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL, time INTEGER NOT NULL,
  tenant INTEGER, agent INTEGER, tool INTEGER, decision INTEGER, tier INTEGER, trace_id TEXT,
  manifest_digest INTEGER, hash BLOB NOT NULL, block INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_tenant_time ON records(tenant, time);
CREATE INDEX IF NOT EXISTS records_agent_time ON records(agent, time);
CREATE INDEX IF NOT EXISTS records_tool_time ON records(tool, time);
CREATE INDEX IF NOT EXISTS records_decision_time ON records(decision, time);
CREATE INDEX IF NOT EXISTS records_tier_time ON records(tier, time);
CREATE INDEX IF NOT EXISTS records_kind_time ON records(kind, time);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE INDEX IF NOT EXISTS records_trace ON records(trace_id, time);
CREATE INDEX IF NOT EXISTS records_manifest ON records(manifest_digest, time);
CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

const COLUMNS: Record<FilterColumn, string> = {
  tenant: 'tenant',
  agent: 'agent',
  tool: 'tool',
  decision: 'decision',
  tier: 'tier',
  kind: 'kind',
  traceId: 'trace_id',
  manifestDigest: 'manifest_digest',
};

/** Filter columns kept as numbers into `names` (all but the trace id, which is nearly unique). */
const NAMED = new Set<FilterColumn>(['tenant', 'agent', 'tool', 'decision', 'tier', 'kind', 'manifestDigest']);

const SELECT_LOCATION = `SELECT r.seq AS seq, r.hash AS hash, s.key AS segment, b.offset AS offset, b.length AS length, b.first_seq AS firstSeq
  FROM records r JOIN blocks b ON b.id = r.block JOIN segments s ON s.id = b.segment`;

const located = (row: IndexedRecord & { hash: Uint8Array }): IndexedRecord => ({ ...row, hash: Buffer.from(row.hash) });

function dropOldLayout(db: SqliteDatabase): void {
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (version === SCHEMA_VERSION) return;
  db.exec(
    'DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS blocks; DROP TABLE IF EXISTS names; DROP TABLE IF EXISTS segments; DROP TABLE IF EXISTS nodes; DROP TABLE IF EXISTS state;',
  );
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

export class AuditIndex {
  private readonly insertStmt: StatementSync;
  private readonly nameStmt: StatementSync;
  private readonly addNameStmt: StatementSync;
  private readonly blockStmt: StatementSync;
  private readonly idStmt: StatementSync;
  private readonly tree: TreeStore;

  private constructor(private readonly db: SqliteDatabase) {
    // Positional parameters: binding an object by names cost about a third of the row's insert.
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO records (seq, id, kind, time, tenant, agent, tool, decision, tier, trace_id, manifest_digest, hash, block)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.idStmt = db.prepare('SELECT seq FROM records WHERE id = ?');
    this.nameStmt = db.prepare('SELECT id FROM names WHERE value = ?');
    this.addNameStmt = db.prepare('INSERT INTO names (value) VALUES (?)');
    this.blockStmt = db.prepare(
      'INSERT INTO blocks (segment, offset, length, first_seq) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET length = excluded.length RETURNING id',
    );
    const hashes = db.prepare('SELECT hash FROM records WHERE seq >= ? AND seq < ? ORDER BY seq');
    const node = db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx = ?');
    const putNode = db.prepare('INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (?, ?, ?)');
    this.tree = {
      hashes: (lo, hi) => (hashes.all(lo, hi) as Array<{ hash: Uint8Array }>).map((r) => Buffer.from(r.hash)),
      node: (level, idx) => {
        const row = node.get(level, idx) as { hash: Uint8Array } | undefined;
        return row ? Buffer.from(row.hash) : undefined;
      },
      putNode: (level, idx, hash) => putNode.run(level, idx, hash),
    };
  }

  static open(file: string): AuditIndex {
    const db = openSqlite(file, { busyTimeoutMs: 10_000 });
    inTransaction(db, () => {
      dropOldLayout(db);
      db.exec(SCHEMA);
    });
    return new AuditIndex(db);
  }

  /**
   * Opens an existing index without changing it (verify reads it while a writer may run);
   * undefined when it has another layout (readers drop and rebuild such an index).
   */
  static openReadOnly(file: string): AuditIndex | undefined {
    const db = openSqlite(file, { readOnly: true, busyTimeoutMs: 10_000 });
    if ((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version !== SCHEMA_VERSION) {
      db.close();
      return undefined;
    }
    return new AuditIndex(db);
  }

  /** The rows of seqs lo..hi-1, in seq order. */
  rows(lo: number, hi: number): IndexRow[] {
    const entries = Object.entries(COLUMNS) as Array<[FilterColumn, string]>;
    const columns = entries.map(([key, column]) => (NAMED.has(key) ? `n_${key}.value AS ${key}` : `r.${column} AS ${key}`));
    const names = entries.filter(([key]) => NAMED.has(key)).map(([key, column]) => `LEFT JOIN names n_${key} ON n_${key}.id = r.${column}`);
    const sql = `SELECT r.seq AS seq, r.id AS id, r.time AS time, r.hash AS hash, s.key AS segment, ${columns.join(', ')}
      FROM records r JOIN blocks b ON b.id = r.block JOIN segments s ON s.id = b.segment ${names.join(' ')}
      WHERE r.seq >= ? AND r.seq < ? ORDER BY r.seq`;
    return (this.db.prepare(sql).all(lo, hi) as Array<Record<string, string | number | Uint8Array | null>>).map((row) => ({
      seq: row.seq as number,
      id: row.id as string,
      time: new Date(row.time as number).toISOString(),
      hash: Buffer.from(row.hash as Uint8Array),
      segment: row.segment as string,
      values: Object.fromEntries(entries.map(([key]) => [key, row[key] as string | null])) as IndexRow['values'],
    }));
  }

  /** The highest seq with a row, or -1. */
  lastSeq(): number {
    return (this.db.prepare('SELECT MAX(seq) AS seq FROM records').get() as { seq: number | null }).seq ?? -1;
  }

  /** Tree size up to which the index holds every record (0 when empty). */
  syncedTreeSize(): number {
    const row = this.db.prepare("SELECT value FROM state WHERE key = 'treeSize'").get() as { value: number } | undefined;
    return row?.value ?? 0;
  }

  seqOfId(id: string): number | undefined {
    return (this.idStmt.get(id) as { seq: number } | undefined)?.seq;
  }

  /** The number standing for `value` in `names`, added when new (inside a transaction). */
  private nameId(value: string | null, cache: Map<string, number>): number | null {
    if (value === null) return null;
    let id = cache.get(value);
    if (id === undefined) {
      const row = this.nameStmt.get(value) as { id: number } | undefined;
      id = row ? row.id : Number(this.addNameStmt.run(value).lastInsertRowid);
      cache.set(value, id);
    }
    return id;
  }

  /**
   * Adds one sealed segment's records and advances the synced tree size, atomically.
   * `blocks` are the segment's gzip members (segment.ts), in order; each record's line index
   * in the segment says which member holds it.
   */
  addSegment(segment: string, records: SealedRecord[], blocks: SegmentBlock[], treeSize: number): void {
    inTransaction(this.db, () => {
      const before = this.syncedTreeSize();
      const firstSeq = records[0]?.seq ?? treeSize;
      this.db.prepare('INSERT OR IGNORE INTO segments (key, first_seq) VALUES (?, ?)').run(segment, firstSeq);
      const { id } = this.db.prepare('SELECT id FROM segments WHERE key = ?').get(segment) as { id: number };
      const blockIds = blocks.map((b) => (this.blockStmt.get(id, b.offset, b.length, firstSeq + b.firstLine) as { id: number }).id);
      const names = new Map<string, number>();
      const hashes: Buffer[] = [];
      let block = 0;
      records.forEach((r, line) => {
        while (block + 1 < blocks.length && blocks[block + 1]!.firstLine <= line) block++;
        const v = filterValues(r);
        const hash = Buffer.from(r.hash.slice(7), 'hex');
        hashes.push(hash);
        this.insertStmt.run(
          r.seq,
          r.id,
          this.nameId(v.kind, names),
          Date.parse(r.time),
          this.nameId(v.tenant, names),
          this.nameId(v.agent, names),
          this.nameId(v.tool, names),
          this.nameId(v.decision, names),
          this.nameId(v.tier, names),
          v.traceId,
          this.nameId(v.manifestDigest, names),
          hash,
          blockIds[block]!,
        );
      });
      // The tree's new nodes hash this segment's records from the hashes at hand, not read back.
      const end = records.every((r, i) => r.seq === firstSeq + i) ? firstSeq + hashes.length : firstSeq;
      const store: TreeStore = {
        ...this.tree,
        hashes: (lo, hi) => (lo >= firstSeq && hi <= end ? hashes.slice(lo - firstSeq, hi - firstSeq) : this.tree.hashes(lo, hi)),
      };
      if (treeSize > before) extendTree(store, before, treeSize);
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
        where.push(NAMED.has(key) ? `r.${column} = (SELECT id FROM names WHERE value = @${key})` : `r.${column} = @${key}`);
        params[key] = value;
      }
    }
    if (q.from !== undefined) {
      where.push('r.time >= @from');
      params.from = Date.parse(q.from);
    }
    if (q.to !== undefined) {
      where.push('r.time < @to');
      params.to = Date.parse(q.to);
    }
    const desc = q.order === 'desc';
    if (q.after !== undefined) {
      where.push(`(r.time, r.seq) ${desc ? '<' : '>'} (@afterTime, @afterSeq)`);
      params.afterTime = Date.parse(q.after.time);
      params.afterSeq = q.after.seq;
    }
    params.limit = q.limit ?? -1;
    const order = desc ? 'r.time DESC, r.seq DESC' : 'r.time, r.seq';
    const sql = `${SELECT_LOCATION} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as unknown as Array<IndexedRecord & { hash: Uint8Array }>).map(located);
  }

  getById(id: string): IndexedRecord | undefined {
    const row = this.db.prepare(`${SELECT_LOCATION} WHERE r.id = ?`).get(id) as unknown as
      (IndexedRecord & { hash: Uint8Array }) | undefined;
    return row ? located(row) : undefined;
  }

  /** The stored Merkle tree (see index-tree.ts). */
  treeStore(): TreeStore {
    return this.tree;
  }

  /** Drops every row: the next sync rebuilds the index from the segments. */
  reset(): void {
    this.db.exec('DELETE FROM records; DELETE FROM blocks; DELETE FROM names; DELETE FROM segments; DELETE FROM nodes; DELETE FROM state;');
  }

  close(): void {
    this.db.close();
  }
}
