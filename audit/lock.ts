import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/index.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One writer per log directory: `LOCK` holds the writer's pid. A lock left by a process that
 * no longer runs (kill -9) is taken over; a live one is refused, since two writers would
 * interleave seqs and corrupt the chain.
 */
export function lockLogDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new InputError(`audit log is open in another process (pid ${pid})`, { file });
      rmSync(file, { force: true });
    }
  }
  throw new InputError('cannot take the audit log lock', { file });
}
