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

function help(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, CHARTER_HOME: join(root, 'h') },
  });
  if (r.status !== 0) throw new Error(`charter ${args.join(' ')} --help exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The subcommand names a group's help lists. */
function verbsOf(group: string): string[] {
  const section = help([group]).split('Commands:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((v) => v !== 'help');
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

  it('every flag in the CLI table exists on its command', { timeout: 300_000 }, () => {
    const rows = [...README.matchAll(/^\| `charter ([a-z]+)` \| (.*) \|$/gm)];
    expect(rows.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const [, group, cell] of rows) {
      const verbs = verbsOf(group!);
      const helps = new Map(verbs.map((v) => [v, help([group!, v])]));
      const groupHelp = help([group!]) + [...helps.values()].join('\n');
      for (const [, snippet] of cell!.matchAll(/`([^`]+)`/g)) {
        const words = snippet!
          .replace(/\\\|/g, '|')
          .split(/[\s|[\]]+/)
          .filter(Boolean);
        for (const alt of words[0]!.split('|')) {
          if (/^[a-z][a-z-]*$/.test(alt) && verbs.length > 0 && !verbs.includes(alt) && words[0] === alt)
            problems.push(`charter ${group} ${alt}: no such command`);
        }
        const where = helps.get(words[0]!.split('|')[0]!) ?? groupHelp;
        for (const flag of words.filter((w) => w.startsWith('--')).map((w) => w.replace(/[=.].*$/, '')))
          if (!new RegExp(`${flag}(?![a-z-])`).test(where)) problems.push(`charter ${group} ${words[0]}: no ${flag}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
