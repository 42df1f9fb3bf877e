import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';

// A program using Charter as a library imports the verifiers through the package's exports map
// (`charter/verify/...`) and gets neither promptfoo nor the AWS SDK loaded: checked in a fresh
// process whose module resolution is recorded by a hook installed before the first import.
const exportsMap = (JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { exports: Record<string, unknown> }).exports;
const SUBPATHS = Object.keys(exportsMap).filter((k) => k.startsWith('./verify/') || k.startsWith('./audit/'));

const PROGRAM = `
import { registerHooks } from 'node:module';
const resolved = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.push(r.url); return r; } });
const api = {};
for (const sub of ${JSON.stringify(SUBPATHS)}) api[sub] = Object.keys(await import('charter' + sub.slice(1)));
console.log(JSON.stringify({ api, resolved }));
`;

describe('library exports', () => {
  it('the verifiers load without promptfoo or the AWS SDK', { timeout: 60_000 }, () => {
    expect(SUBPATHS).toEqual(
      expect.arrayContaining(['./verify/manifest', './verify/audit-trail', './verify/bundle', './verify/eval-report']),
    );
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROGRAM], { cwd: packageRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { api, resolved } = JSON.parse(r.stdout) as { api: Record<string, string[]>; resolved: string[] };
    expect(api['./verify/manifest']).toContain('loadVerifiedManifest');
    expect(api['./verify/audit-trail']).toContain('verifyAuditLog');
    expect(api['./audit/local-sink']).toContain('LocalDirectorySink');
    expect(api['./verify/bundle']).toContain('verifyEvidenceBundle');
    expect(api['./verify/eval-report']).toContain('loadReport');
    expect(resolved.length).toBeGreaterThan(10);
    expect(resolved.filter((u) => /\/node_modules\/(promptfoo|@aws-sdk)\//.test(u))).toEqual([]);
  });

  it('every export has its type declarations in the build', () => {
    for (const target of Object.values(exportsMap)) {
      if (typeof target === 'string') continue;
      const { types } = target as { types: string };
      expect(() => readFileSync(`${packageRoot}/${types}`), types).not.toThrow();
    }
  });
});
