import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { FindingError } from '../../common/index.js';
import { writeFileDurably } from '../wal.js';
import { OccupiedKeyError, type ByteRange, type SegmentSink, type SinkObject } from './sink.js';

/**
 * The embedded default sink: a local directory, same layout as the S3 sink. It is
 * tamper-evident (every change is found by `charter audit verify`), not WORM: anyone with
 * write access to the directory can still change or delete files.
 */
export class LocalDirectorySink implements SegmentSink {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = root;
  }

  async open(): Promise<void> {
    mkdirSync(this.root, { recursive: true });
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = this.path(key);
    if (existsSync(file)) {
      if (Buffer.from(body).equals(await readFile(file))) return;
      throw new OccupiedKeyError('refusing to overwrite a sealed object with different content', { file });
    }
    // Asynchronous, so a seal never stalls appends on the event loop.
    await writeFileDurably(file, body);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const file = this.path(key);
    if (!existsSync(file)) return undefined;
    if (!range) return readFileSync(file);
    const fd = openSync(file, 'r');
    try {
      const out = Buffer.alloc(range.length);
      return out.subarray(0, readSync(fd, out, 0, range.length, range.offset));
    } finally {
      closeSync(fd);
    }
  }

  async list(prefix: string): Promise<SinkObject[]> {
    const base = this.path(prefix.replace(/\/+$/, ''));
    if (!existsSync(base)) return [];
    const entries = readdirSync(base, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => ({ key: relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'), warnings: [] }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private path(key: string): string {
    if (key.split('/').some((p) => p === '..' || p === '')) throw new FindingError(`invalid object key '${key}'`);
    return join(this.root, ...key.split('/'));
  }
}
