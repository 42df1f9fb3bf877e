// Benchmark: the packs bench (compile every manifest, run the whole corpus) over a copy of the
// shipped packs with SCALE times their policies, the size enterprises run. Each extra policy is
// a copy of a shipped one confined to a tenant of its own (its first condition
// `when { context.tenant == ... }`, the form engines index by tenant: see tenant-slices.ts),
// so it is parsed, validated, composed and evaluated like the original while the corpus's
// tenants decide as before: every test must still pass. Runs the packs bench (rounds, raw Cedar
// limit, aims) over the copy in its own process and prints its JSON line with the policy count.
// PACKS_SCALE=100 is the size (9,900 policies in the packs, 34,400 in the manifests); it takes
// several minutes on the shared 2-core machine, so `npm run bench` runs the default 10x.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentPath } from '../common/index.js';

const SCALE = Number(process.env.PACKS_SCALE ?? 10);

/** The policies of a .cedar file, each from its `@id` line to the line ending its statement. */
function policiesOf(text: string): string[] {
  const lines = text.split('\n');
  const starts = lines.flatMap((l, i) => (l.trimStart().startsWith('@id(') ? [i] : []));
  return starts.map((start, n) => {
    const chunk = lines.slice(start, starts[n + 1] ?? lines.length);
    const end = chunk.findLastIndex((l) =>
      l
        .replace(/\/\/.*$/, '')
        .trimEnd()
        .endsWith(';'),
    );
    return chunk.slice(0, end + 1).join('\n');
  });
}

/** Where the scope of a policy ends: just after the `)` closing its `permit (` or `forbid (`. */
function scopeEnd(policy: string): number {
  // Comments blanked out (same length), so a parenthesis in one is not counted.
  const text = policy.replace(/\/\/[^\n]*/g, (c) => ' '.repeat(c.length));
  const open = /\b(?:permit|forbid)\s*\(/.exec(text);
  if (!open) throw new Error(`no effect in policy: ${policy.slice(0, 80)}`);
  let depth = 0;
  for (let i = open.index + open[0].length - 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced scope in policy: ${policy.slice(0, 80)}`);
}

/**
 * A copy of `policy` with its own id that applies only to `tenant`: its first condition is the
 * tenant guard, the way a tenant's own policy is written (engines ask Cedar of a request's
 * tenant only the policies guarded for it, besides the unguarded ones: see tenant-slices.ts).
 */
function confinedCopy(policy: string, tenant: string): string {
  const withId = policy.replace(/@id\("([^"]+)"\)/, (_, id: string) => `@id("${id}.${tenant}")`);
  const end = scopeEnd(withId);
  return `${withId.slice(0, end)}\nwhen { context.tenant == Charter::Tenant::"${tenant}" }${withId.slice(end)}`;
}

function scaleFile(file: string): number {
  const text = readFileSync(file, 'utf8');
  const policies = policiesOf(text);
  const copies = policies.flatMap((p) => Array.from({ length: SCALE - 1 }, (_, k) => confinedCopy(p, `scale-tenant-${k + 1}`)));
  writeFileSync(file, `${text}\n${copies.join('\n\n')}\n`);
  return policies.length * SCALE;
}

function scaleTree(dir: string): number {
  let policies = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) policies += scaleTree(path);
    else if (name.endsWith('.cedar') && dirname(path).endsWith('policies')) policies += scaleFile(path);
  }
  return policies;
}

const dir = mkdtempSync(join(tmpdir(), `bench-packs-${SCALE}x-`));
try {
  cpSync(contentPath('policy-packs', 'packs'), dir, { recursive: true });
  const policies = scaleTree(dir);
  const packsBench = join(dirname(fileURLToPath(import.meta.url)), 'packs.js');
  const r = spawnSync(process.execPath, [packsBench, dir, String(SCALE)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`packs bench over ${SCALE}x policies exited with ${r.status ?? r.signal}`);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  process.stdout.write(JSON.stringify({ ...report, policiesInPacks: policies, packsDir: '(generated copy of the shipped packs)' }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
