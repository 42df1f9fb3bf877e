import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsync of a file or directory by path. */
function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file atomically and durably: a temporary sibling is written, fsynced and renamed
 * over the target, then the directory is fsynced. A failure never leaves a half-written output
 * behind, and a power loss leaves the old content or the new one, never an empty file (a
 * rename without the fsync may reach the disk before the data does).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, mode !== undefined ? { mode } : undefined);
    syncPath(tmp);
    renameSync(tmp, file);
    if (process.env.CHARTER_VERBOSE) process.stderr.write(`charter: wrote ${file}\n`);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncPath(dirname(file));
}
