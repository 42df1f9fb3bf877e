import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/index.js';

/** Who holds a lock: the pid alone is not enough (pid 1 after a container restart, a reused pid). */
interface Holder {
  pid: number;
  /** /proc/sys/kernel/random/boot_id: a lock from before a reboot names no live process. */
  bootId: string | null;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot): tells a reused pid from the holder. */
  startTime: string | null;
}

const readOr = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

const bootId = (): string | null => readOr('/proc/sys/kernel/random/boot_id')?.trim() ?? null;

/** The process's start time, or null when it does not run (or /proc is not there). */
function startTimeOf(pid: number): string | null {
  const stat = readOr(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // the command name (field 2) is in parentheses and may hold spaces: count fields after it
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Lock files this process holds: the only way its own pid can be a live holder. */
const held = new Set<string>();

function parseHolder(text: string): Holder | null {
  // an older lock holds the bare pid
  if (/^\d+\s*$/.test(text)) return { pid: Number(text), bootId: null, startTime: null };
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (Number.isInteger(h.pid) && h.pid! > 0) return { pid: h.pid!, bootId: h.bootId ?? null, startTime: h.startTime ?? null };
  } catch {
    // torn or foreign content: no holder
  }
  return null;
}

/** Why a lock does not name a live writer, or null when it does. */
function staleness(file: string, h: Holder): string | null {
  if (h.pid === process.pid) return held.has(file) ? null : 'it names this process, which does not hold it (a restart with the same pid)';
  if (h.bootId && bootId() && h.bootId !== bootId()) return 'it was taken before the last reboot';
  if (!alive(h.pid)) return 'that process no longer runs';
  const now = startTimeOf(h.pid);
  if (h.startTime && now && h.startTime !== now)
    return `pid ${h.pid} now belongs to another process (started at tick ${now}, not ${h.startTime})`;
  return null;
}

/**
 * One writer per log directory: `LOCK` names the writer by pid, boot id and process start
 * time. A live writer is refused, since two writers would interleave seqs and corrupt the
 * chain. A lock that names no live writer (killed process, reboot, reused pid, this pid after
 * a container restart) is taken over, and `onTakeover` says why.
 */
export function lockLogDir(dir: string, onTakeover: (message: string) => void = () => undefined): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'LOCK');
  const me: Holder = { pid: process.pid, bootId: bootId(), startTime: startTimeOf(process.pid) };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      held.add(file);
      return () => {
        held.delete(file);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const text = readOr(file) ?? '';
      const holder = parseHolder(text);
      const why = holder ? staleness(file, holder) : 'it names no process';
      if (why === null) throw new InputError(`audit log is open in another process (pid ${holder!.pid})`, { file });
      onTakeover(`${file}: took over a stale lock (${text.trim() || 'empty'}): ${why}`);
      rmSync(file, { force: true });
    }
  }
  throw new InputError('cannot take the audit log lock', { file });
}
