import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export type SqliteDatabase = DatabaseSync;

export interface OpenSqliteOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  readOnly?: boolean;
}

/**
 * Opens a SQLite file with Node's built-in driver (no native addon to build), in WAL mode with
 * NORMAL sync: a commit survives a process crash, and the callers that need more (the audit
 * trail) keep their own write-ahead log.
 */
export function openSqlite(file: string, options: OpenSqliteOptions = {}): DatabaseSync {
  if (file !== ':memory:' && !options.readOnly) mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file, { readOnly: options.readOnly ?? false, timeout: options.busyTimeoutMs ?? 5000 });
  if (!options.readOnly) {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
  }
  return db;
}

/**
 * Runs `work` in one IMMEDIATE transaction (the write lock is taken at BEGIN, so two
 * connections cannot both read-then-write the same rows), committing on return and rolling
 * back on throw. A call inside a transaction joins it.
 */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  if (db.isTransaction) return work();
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
