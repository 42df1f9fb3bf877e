import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker module `file` (e.g. `index-worker.js`) beside this one, or undefined
 * when running from TypeScript sources (vitest): Node 20 cannot start a worker on a `.ts`
 * file, so callers then do the same work on their own thread.
 */
export function compiledWorker(file: string): URL | undefined {
  const url = new URL(`./${file}`, import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}
