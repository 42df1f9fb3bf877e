import { open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';

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
 * Reads every WAL file in order. A torn last line (a write cut short by a power loss) was
 * never acknowledged, because acknowledgement waits for fdatasync of the whole batch: it is
 * cut off the file.
 */
export async function readWalFiles(walDir: string): Promise<WalFile[]> {
  mkdirSync(walDir, { recursive: true });
  const names = (await readdir(walDir)).filter((n) => /^\d{12}\.wal$/.test(n)).sort();
  const out: WalFile[] = [];
  for (const name of names) {
    const file = join(walDir, name);
    const text = await readFile(file, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) await truncate(file, Buffer.byteLength(text.slice(0, end)));
    out.push({ file, firstSeq: Number(name.slice(0, 12)), lines: end === 0 ? [] : text.slice(0, end - 1).split('\n') });
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
