import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/index.js';
import { sha256Hex, canonicalJson } from '../signing/index.js';

/**
 * Model responses keyed by the hash of their full request (model identity and messages), so
 * a rerun over unchanged inputs costs nothing and gives the same answers. Entries are
 * immutable files `<dir>/<2 hex>/<64 hex>.json`; only validated responses are stored.
 */
export class ResponseCache {
  constructor(readonly dir: string) {}

  static keyOf(request: unknown): string {
    return sha256Hex(canonicalJson(request));
  }

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get<T>(key: string): T | undefined {
    const f = this.file(key);
    if (!existsSync(f)) return undefined;
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as T;
    } catch {
      return undefined; // a corrupt entry is a miss, never an answer
    }
  }

  set(key: string, value: unknown): void {
    writeFileAtomic(this.file(key), JSON.stringify(value));
  }
}
