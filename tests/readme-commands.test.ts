import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';

// The README's commands cannot drift: the marked `sh` block runs as written (with `charter` the
// built CLI) in an empty folder, and every flag the CLI table names exists in that command's --help.
const CLI = contentPath('dist', 'cli', 'main.js');
const README = readFileSync(contentPath('README.md'), 'utf8');
let root: string;

/** Every command path with its subcommands and options, from one process: the tree the completion script bakes in. */
function commandTree(): Map<string, string[]> {
  const r = spawnSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`charter completion bash exited ${r.status}: ${r.stderr}`);
  return new Map([...r.stdout.matchAll(/^ {4}"([^"]*)"\) words="([^"]*)" ;;$/gm)].map((m) => [m[1]!, m[2]!.split(' ')]));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'charter-readme-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('README commands', () => {
  it('the marked sh block runs as written in an empty folder', { timeout: 300_000 }, () => {
    const block = /<!-- readme-commands: run -->\s*```sh\n([\s\S]*?)```/.exec(README)?.[1];
    expect(block, 'the README has a marked sh block').toBeDefined();
    const lines = block!.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(lines.length).toBeGreaterThan(3);
    const cwd = join(root, 'tour');
    mkdirSync(cwd);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}` };
    delete env.CHARTER_HOME;
    mkdirSync(join(root, 'bin'));
    // `charter` as the README's reader has it: the built CLI under this Node.
    spawnSync('bash', [
      '-c',
      `printf '#!/bin/sh\\nexec "%s" "%s" "$@"\\n' "${process.execPath}" "${CLI}" > ${join(root, 'bin', 'charter')} && chmod +x ${join(root, 'bin', 'charter')}`,
    ]);
    for (const line of lines) {
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', line], { cwd, env, encoding: 'utf8' });
      expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('every flag in the CLI table exists on its command', { timeout: 120_000 }, () => {
    const rows = [...README.matchAll(/^\| `charter ([a-z]+)` \| (.*) \|$/gm)];
    expect(rows.length).toBeGreaterThan(10);
    const tree = commandTree();
    const problems: string[] = [];
    for (const [, group, cell] of rows) {
      const verbs = (tree.get(group!) ?? []).filter((w) => !w.startsWith('-'));
      const groupFlags = new Set([...tree].filter(([path]) => path.startsWith(`${group} `) || path === group).flatMap(([, w]) => w));
      for (const [, snippet] of cell!.matchAll(/`([^`]+)`/g)) {
        const words = snippet!
          .replace(/\\\|/g, '|')
          .split(/[\s|[\]]+/)
          .filter(Boolean);
        const verb = /^[a-z][a-z-]*$/.test(words[0]!) && verbs.includes(words[0]!) ? words[0]! : undefined;
        const known = verb
          ? new Set([...(tree.get(`${group} ${verb}`) ?? []), ...(tree.get('') ?? [])])
          : new Set([...groupFlags, ...(tree.get('') ?? [])]);
        for (const flag of words.filter((w) => w.startsWith('--')).map((w) => w.replace(/[=.].*$/, '')))
          if (!known.has(flag)) problems.push(`charter ${group} ${verb ?? '(any)'}: no ${flag}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
