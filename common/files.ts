import { mkdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file atomically: a temporary sibling is written and renamed over the target,
 * so a failure never leaves a half-written output behind.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, mode !== undefined ? { mode } : undefined);
    renameSync(tmp, file);
    if (process.env.CHARTER_VERBOSE) process.stderr.write(`charter: wrote ${file}\n`);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
