import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import { loadPromptfoo } from '../evals/index.js';

// `charter evals export REPORT --format promptfoo` through the built CLI, read back by the
// installed promptfoo's own code: its zod schemas for prompts and test cases, and its CLI's
// `import` (what `promptfoo view` reads from) followed by its `export eval`.
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const PRELOAD = pathToFileURL(join(packageRoot, 'dist', 'evals', 'promptfoo-preload.js')).href;
// promptfoo's exports map hides its bin; its ESM entry sits beside the CLI entry point.
const PROMPTFOO = join(dirname(createRequire(import.meta.url).resolve('promptfoo')), 'entrypoint.js');
let home: string;
let report: string;
let exported: string;

interface Result {
  success: boolean;
  failureReason: number;
  testCase: { description: string; vars: Record<string, unknown> };
  namedScores: Record<string, number>;
}
interface ResultsFile {
  evalId: string;
  results: { version: number; prompts: unknown[]; results: Result[]; stats: { successes: number; failures: number; errors: number } };
}

function charter(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** promptfoo's own CLI, with Charter's promptfoo settings preloaded (state under the home, no telemetry beacon). */
function promptfoo(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', PRELOAD, PROMPTFOO, ...args], {
    encoding: 'utf8',
    cwd: home,
    // this process's own PROMPTFOO_* settings (set when it loaded promptfoo) would be kept over the home's
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROMPTFOO_'))),
      CHARTER_HOME: home,
      HOME: home,
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  expect(existsSync(CLI), 'run `npx tsc -p tsconfig.json` first: the CLI is tested as built').toBe(true);
  home = mkdtempSync(join(tmpdir(), 'charter-evals-export-'));
  expect(charter('keys', 'generate', '--name', 'eval-report', '--purpose', 'eval-report').code).toBe(0);
  // The held-out bid set has passes, failures and target errors (weights that do not add up).
  const run = charter('evals', 'run', 'bid-evaluation-heldout', '--json');
  expect(run.code, run.err).toBe(0);
  report = (JSON.parse(run.out) as { files: { report: string } }).files.report;
  exported = join(home, 'exports', 'bid-evaluation-heldout.promptfoo.json');
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('charter evals export --format promptfoo', { timeout: 180_000 }, () => {
  it("writes promptfoo's results file (version 3) whose outcomes are the report's, with each case's input and expected answer", () => {
    const r = charter('evals', 'export', report, '--format', 'promptfoo', '--out', exported, '--json');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { ok: boolean; stats: ResultsFile['results']['stats']; dataset: string };
    expect(out).toMatchObject({ ok: true, stats: { successes: 19, failures: 3, errors: 2 } });
    expect(out.dataset).toMatch(/inputs and expected answers from bid-evaluation-heldout@v1/);

    const doc = JSON.parse(readFileSync(exported, 'utf8')) as ResultsFile;
    expect(doc.results.version).toBe(3);
    const verified = JSON.parse(charter('evals', 'verify', report, '--json').out) as {
      report: { metrics: Array<{ name: string; n: number; estimate: number }> };
    };
    const accuracy = verified.report.metrics.find((m) => m.name === 'decision_accuracy')!;
    const awarded = doc.results.results.filter((x) => x.namedScores.decision_accuracy === 1).length;
    expect(awarded / accuracy.n).toBeCloseTo(accuracy.estimate, 10);
    const row = doc.results.results.find((x) => x.testCase.description === 'bh-001')!;
    expect(row.testCase.vars).toMatchObject({ case: 'bh-001', input: expect.any(Object), expected: expect.any(Object) });
    // Without --out the document goes to stdout, the same apart from when it was exported.
    const piped = JSON.parse(charter('evals', 'export', report, '--format', 'promptfoo').out) as ResultsFile & { metadata: unknown };
    expect({ ...piped, metadata: null }).toEqual({ ...doc, metadata: null });
  });

  it("passes promptfoo's own schemas for its prompts and test cases", async () => {
    const pf = await loadPromptfoo();
    const doc = JSON.parse(readFileSync(exported, 'utf8')) as ResultsFile;
    for (const p of doc.results.prompts) expect(pf.CompletedPromptSchema.safeParse(p).success).toBe(true);
    for (const x of doc.results.results) expect(pf.AtomicTestCaseSchema.safeParse(x.testCase).success, x.testCase.description).toBe(true);
  });

  it("is imported by promptfoo's CLI (the store `promptfoo view` reads) and exported back with the same outcomes", () => {
    const doc = JSON.parse(readFileSync(exported, 'utf8')) as ResultsFile;
    const imported = promptfoo('import', exported);
    expect(imported.code, imported.err).toBe(0);
    expect(existsSync(join(home, 'promptfoo', 'config', 'promptfoo.db'))).toBe(true);
    expect(existsSync(join(home, '.promptfoo')), 'nothing under HOME/.promptfoo').toBe(false);
    const back = join(home, 'exports', 'back.json');
    const again = promptfoo('export', 'eval', doc.evalId, '-o', back);
    expect(again.code, again.err).toBe(0);
    const read = JSON.parse(readFileSync(back, 'utf8')) as ResultsFile;
    expect(read.evalId).toBe(doc.evalId);
    expect(read.results.stats).toMatchObject({ successes: 19, failures: 3, errors: 2 });
    const outcome = (f: ResultsFile) =>
      Object.fromEntries(f.results.results.map((x) => [x.testCase.description, [x.success, x.failureReason, x.namedScores]]));
    expect(outcome(read)).toEqual(outcome(doc));
  });

  it('refuses a report that does not verify (exit 1) and an unknown format (exit 2)', () => {
    const envelope = JSON.parse(readFileSync(report, 'utf8')) as { payload: string };
    envelope.payload = Buffer.from(Buffer.from(envelope.payload, 'base64').toString('utf8').replace('"pass"', '"fail"')).toString('base64');
    const tampered = join(home, 'tampered.dsse.json');
    writeFileSync(tampered, JSON.stringify(envelope));
    expect(charter('evals', 'export', tampered, '--format', 'promptfoo').code).toBe(1);
    const r = charter('evals', 'export', report, '--format', 'csv');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown format 'csv' \(one of promptfoo\)/);
  });
});
