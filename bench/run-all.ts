// Runs every compiled benchmark (dist/bench/*.js except this file and the shared harness) as a child process, one after
// another so they do not compete for the two cores, and prints each one's JSON line.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
let failed = 0;
for (const file of readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== self && f !== 'harness.js')
  .sort()) {
  const r = spawnSync(process.execPath, [join(here, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of r.stdout.split('\n').filter((l) => l.trim().startsWith('{'))) process.stdout.write(line + '\n');
  if (r.status !== 0) {
    failed++;
    process.stdout.write(JSON.stringify({ bench: file.replace(/\.js$/, ''), error: `exited with ${r.status ?? r.signal}` }) + '\n');
  }
}
process.exitCode = failed > 0 ? 1 : 0;
