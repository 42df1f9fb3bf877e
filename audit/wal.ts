import { mkdir, open, readdir, readFile, rename, rm, truncate, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { constants, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Write-ahead log files: `wal/<first seq, 12 digits>.wal`, one sealed-record line each.
 * A file is started when the log opens and at every seal, so each sealed segment is exactly
 * the content of one WAL file: re-sealing after a crash rebuilds byte-identical segments.
 */

export interface WalFile {
  file: string;
  firstSeq: number;
  lines: string[];
}

export const walName = (firstSeq: number): string => `${String(firstSeq).padStart(12, '0')}.wal`;

/** fsyncs a directory so a file created, renamed or removed in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file atomically and durably without blocking the event loop: a temporary sibling
 * is written, fsynced and renamed over `file`, then the directory is fsynced (common's
 * writeFileAtomic does the same synchronously).
 */
export async function writeFileDurably(file: string, body: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
  await syncDir(dirname(file));
}

/**
 * Where the acknowledged part of a WAL file ends. A write is acknowledged only once all of it
 * is on disk, and the next write starts only then, so a power loss can only damage the last
 * write: a torn last line, or (on file systems that extend the file before its data lands)
 * NUL bytes, possibly followed by lines of that same write. JSON text never holds a raw NUL,
 * so everything from the line holding the first NUL on was never acknowledged.
 */
export function acknowledgedEnd(bytes: Buffer): { end: number; why?: string } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { end: bytes.lastIndexOf(0x0a, nul) + 1, why: `NUL bytes from offset ${nul} (a write cut by a power loss)` };
  const end = bytes.lastIndexOf(0x0a) + 1;
  return end < bytes.length ? { end, why: 'a torn last line' } : { end };
}

/**
 * Reads every WAL file in order, cutting off what a crash left of a write that was never
 * acknowledged (see acknowledgedEnd); anything more than a torn last line is reported.
 */
export async function readWalFiles(walDir: string, report: (message: string) => void = () => undefined): Promise<WalFile[]> {
  mkdirSync(walDir, { recursive: true });
  const names = (await readdir(walDir)).filter((n) => /^\d{12}\.wal$/.test(n)).sort();
  const out: WalFile[] = [];
  for (const name of names) {
    const file = join(walDir, name);
    const bytes = await readFile(file);
    const { end, why } = acknowledgedEnd(bytes);
    if (end < bytes.length) {
      await truncate(file, end);
      if (why !== 'a torn last line')
        report(`${file}: ${why}: cut at byte ${end}, ${bytes.length - end} bytes of a write that was never acknowledged dropped`);
    }
    const text = bytes.subarray(0, end).toString('utf8');
    out.push({ file, firstSeq: Number(name.slice(0, 12)), lines: end === 0 ? [] : text.slice(0, -1).split('\n') });
  }
  return out;
}

export async function removeWalFile(file: string, walDir: string): Promise<void> {
  await rm(file, { force: true });
  await syncDir(walDir);
}

/** One open WAL file. `append` returns once the bytes are on disk. */
export class WalWriter {
  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(walDir: string, firstSeq: number): Promise<WalWriter> {
    mkdirSync(walDir, { recursive: true });
    const file = join(walDir, walName(firstSeq));
    // O_DSYNC: each write returns once its data is on disk, one thread-pool round trip per
    // group commit instead of a write followed by an fdatasync.
    const handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC, 0o644);
    await syncDir(walDir); // the new name must survive a crash too
    return new WalWriter(file, handle);
  }

  /**
   * Writes all of `data` or throws. A write can be short (file size limit, disk full): the
   * rest is written again, and the error that the next write then meets (EFBIG, ENOSPC) fails
   * the log before anything in `data` is acknowledged.
   */
  async append(data: string): Promise<void> {
    const bytes = Buffer.from(data, 'utf8');
    for (let at = 0; at < bytes.length;) {
      const { bytesWritten } = await this.handle.write(bytes, at, bytes.length - at);
      if (bytesWritten === 0) throw new Error(`${this.file}: write made no progress at byte ${at} of ${bytes.length}`);
      at += bytesWritten;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
