import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import { GROUPS } from '../cli/groups.js';

// The CLI's error contract through the built CLI: with --json every failure, commander's parse
// errors included, is one JSON document on stdout with a documented code, and exit 2 (input)
// or 1 (findings); an empty home names the command to run.
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
let root: string;

function charter(args: string[], home = join(root, 'empty-home')) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** One failing invocation per command group: a parse error or an input error the group's own code raises. */
const FAILURES: Record<keyof typeof GROUPS, string[]> = {
  init: ['init', '--no-such-flag'],
  packs: ['packs', 'validate', '--packs', '/nonexistent/packs'],
  manifest: ['manifest', 'verify', '/nonexistent/m.json', '--trusted-keys', '/nonexistent/keys.json'],
  keys: ['keys', 'generate', '--name', 'x', '--purpose', 'no-such-purpose'],
  datasets: ['datasets', 'generate', 'no-such-generator', '--datasets-dir', '/nonexistent/datasets'],
  evals: ['evals', 'run', 'no-such-suite'],
  release: ['release', 'check', '--env', 'dev', '--all'],
  gateway: ['gateway', 'serve'],
  approvals: ['approvals', 'show', 'no-such-request'],
  negotiations: ['negotiations', 'run'],
  agents: ['agents', 'serve'],
  killswitch: ['killswitch', 'engage', '--tenant', 'acme'],
  audit: ['audit', 'query', '--from', 'not-a-date'],
  console: ['console', 'token', '--as', 'ada', '--role', 'no-such-role'],
  demo: ['demo', '--no-such-flag'],
  schemas: ['schemas', '--check', '--out', '/nonexistent/schemas'],
  completion: ['completion', 'fish'],
};

let documented: Set<string>;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'charter-cli-errors-'));
  documented = new Set(readFileSync(join(packageRoot, 'README.md'), 'utf8').match(/CHARTER_[A-Z_]+/g) ?? []);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('--json errors', () => {
  it.each(Object.entries(FAILURES))(
    '%s: one JSON document with a documented code, nothing on stderr from commander',
    { timeout: 60_000 },
    (_g, args) => {
      const r = charter([...args, '--json']);
      expect(r.code === 1 || r.code === 2, `exit ${r.code}: ${r.err}`).toBe(true);
      const doc = JSON.parse(r.out) as { ok: boolean; error: { code: string; message: string } };
      expect(doc.ok).toBe(false);
      expect(doc.error.code).toMatch(/^CHARTER_[A-Z_]+$/);
      expect(documented.has(doc.error.code), `${doc.error.code} is not in the README's table`).toBe(true);
      expect(r.err).not.toMatch(/^error:/m);
    },
  );

  it('parse errors carry their own codes: unknown command, unknown option, missing option, missing value', () => {
    const code = (args: string[]) =>
      (JSON.parse(charter(args.includes('--json') ? args : [...args, '--json']).out) as { error: { code: string } }).error.code;
    expect(code(['no-such-group'])).toBe('CHARTER_USAGE_UNKNOWN_COMMAND');
    expect(code(['keys', 'generate', '--name', 'k', '--no-such-flag'])).toBe('CHARTER_USAGE_UNKNOWN_OPTION');
    expect(code(['keys', 'generate'])).toBe('CHARTER_USAGE_MISSING_OPTION');
    expect(code(['keys', 'generate', '--json', '--name'])).toBe('CHARTER_USAGE_MISSING_VALUE');
  });

  it('without --json, commander keeps its text with did-you-mean on stderr, exit 2', () => {
    const r = charter(['packs', 'tset']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/unknown command 'tset'[\s\S]*Did you mean test\?/);
  });
});

describe('an empty home', () => {
  it('names `charter init` instead of the first missing file', () => {
    const r = charter(['release', 'check', '--env', 'dev', '--all', '--json'], join(root, 'never-created'));
    const doc = JSON.parse(r.out) as { error: { code: string; message: string } };
    expect(r.code).toBe(2);
    expect(doc.error.code).toBe('CHARTER_HOME_NOT_INITIALISED');
    expect(doc.error.message).toContain('charter init');
  });

  it('charter init creates keys, tenants and config, says so, and a second run keeps them', () => {
    const home = join(root, 'initialised');
    const first = charter(['init'], home);
    expect(first.code, first.err).toBe(0);
    for (const f of ['keys/manifest-signer.key.pem', 'keys/trusted-keys.json', 'tenants.yaml', 'config.yaml'])
      expect(first.out).toContain(join(home, f).replace(/trusted-keys.json$/, ''));
    expect(first.out.match(/created/g)?.length).toBeGreaterThanOrEqual(7);
    const again = JSON.parse(charter(['init', '--json'], home).out) as { items: Array<{ created: boolean }> };
    expect(again.items.every((i) => !i.created)).toBe(true);
    const compiled = charter(['packs', 'compile', '--agent', 'kraljic-classifier', '--json'], home);
    expect(compiled.code, compiled.out + compiled.err).toBe(0);
  }, 120_000);
});

describe('help and completion', () => {
  it('top-level --help loads no command group: well under a second of CPU', () => {
    // CPU time, not wall time: the CI machine is shared, and wall time there measures the queue.
    const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time "${process.execPath}" "${CLI}" --help >/dev/null`], {
      encoding: 'utf8',
    });
    const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    expect(r.status).toBe(0);
    expect(user! + sys!).toBeLessThan(0.5);
  });

  it('every group help has examples', { timeout: 120_000 }, () => {
    for (const g of Object.keys(GROUPS)) {
      const r = charter([g, '--help']);
      expect(r.code, g).toBe(0);
      expect(r.out, g).toContain('Examples:');
    }
  });

  it('charter completion bash completes groups, verbs and options', () => {
    const r = charter(['completion', 'bash']);
    expect(r.code).toBe(0);
    const complete = (line: string) =>
      spawnSync(
        'bash',
        ['-c', `${r.out}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _charter_complete; echo "\${COMPREPLY[@]}"`],
        {
          encoding: 'utf8',
        },
      ).stdout.trim();
    expect(complete('charter pa').split(' ')).toContain('packs');
    expect(complete('charter packs com')).toBe('compile');
    expect(complete('charter keys generate --pu')).toBe('--purpose');
  });
});
