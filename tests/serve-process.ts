import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { contentPath } from '../common/index.js';

const CLI = contentPath('dist', 'cli', 'main.js');

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
}

/** `charter negotiations serve` (the built CLI) in its own process on `home`; resolves with the URL it prints. */
export async function startServe(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [CLI, 'negotiations', 'serve', ...args], {
    env: { ...process.env, ...env, CHARTER_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { url, proc, stderr: () => err };
}

/** Polls until `probe` returns a value (or the time is up; `explain` adds what the processes said to the error). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, explain?: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${explain ? `\n${explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
