import { z } from 'zod';
import { parseJson, readText, validateWith } from '../common/index.js';
import { digestOf } from '../signing/index.js';
import { manifestSourceProblems, runPackTests, Workspace, type Manifest, type PackSearchPath } from '../policy-packs/index.js';
import { fail, pass, type CheckOutcome } from './gate-result.js';

/** `vitest run --reporter=json --outputFile=FILE` (the Jest-compatible summary). */
const VitestReport = z.object({
  numTotalTests: z.number().int(),
  numPassedTests: z.number().int(),
  numFailedTests: z.number().int(),
  numPendingTests: z.number().int().default(0),
  numTodoTests: z.number().int().default(0),
  success: z.boolean(),
  testResults: z
    .array(
      z.object({
        name: z.string(),
        status: z.string(),
        assertionResults: z.array(z.object({ fullName: z.string(), status: z.string() })).default([]),
      }),
    )
    .default([]),
});

/** `charter packs test --json`. */
const PacksTestReport = z.object({
  ok: z.boolean(),
  cases: z.number().int(),
  failures: z.array(z.object({ key: z.string() }).passthrough()),
  coveragePercent: z.number(),
});

export interface TestsEvidenceOptions {
  /** A vitest JSON report or `charter packs test --json` output. */
  reportFile?: string;
  /**
   * Run the pack tests of these folders, after checking the manifest is exactly what this search
   * path compiles to (the same search as `charter packs compile --packs`).
   */
  packs?: PackSearchPath;
  minCases: number;
}

function fromVitest(file: string, digest: string, r: z.infer<typeof VitestReport>, minCases: number): CheckOutcome {
  const evidence = {
    source: 'vitest',
    file,
    digest,
    total: r.numTotalTests,
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    skipped: r.numPendingTests + r.numTodoTests,
  };
  const failedNames = r.testResults.flatMap((f) =>
    f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name}: ${a.fullName}`),
  );
  const reasons = [
    ...(r.numFailedTests > 0 ? [`${r.numFailedTests} test(s) failed`, ...failedNames.slice(0, 10)] : []),
    ...(!r.success && r.numFailedTests === 0 ? ['the run did not succeed (a suite failed to load or errored)'] : []),
    ...(r.numPassedTests < minCases ? [`${r.numPassedTests} test(s) passed, at least ${minCases} required`] : []),
  ];
  const summary = `vitest: ${r.numPassedTests}/${r.numTotalTests} passed, ${r.numFailedTests} failed`;
  return reasons.length ? fail(summary, reasons, evidence) : pass(summary, evidence);
}

function fromPacks(source: string, digest: string | null, r: z.infer<typeof PacksTestReport>, minCases: number): CheckOutcome {
  const evidence = {
    source: 'packs-test',
    file: source,
    digest,
    cases: r.cases,
    failed: r.failures.length,
    coveragePercent: r.coveragePercent,
  };
  const reasons = [
    ...(r.failures.length > 0 ? [`${r.failures.length} pack test(s) failed`, ...r.failures.slice(0, 10).map((f) => f.key)] : []),
    ...(!r.ok && r.failures.length === 0 ? ['the pack test run is not ok (coverage below its minimum)'] : []),
    ...(r.cases < minCases ? [`${r.cases} pack test case(s), at least ${minCases} required`] : []),
  ];
  const summary = `pack tests: ${r.cases - r.failures.length}/${r.cases} passed, coverage ${r.coveragePercent.toFixed(1)}%`;
  return reasons.length ? fail(summary, reasons, evidence) : pass(summary, evidence);
}

/**
 * Tests pass: either a report file (vitest JSON or `charter packs test --json`), or the pack
 * tests run here on a packs search path the manifest must be exactly the compilation of.
 */
export function checkTests(manifest: Manifest, opts: TestsEvidenceOptions): CheckOutcome {
  const outcomes: CheckOutcome[] = [];
  if (opts.packs) {
    // The tests say something about the candidate only if the candidate is what the packs compile to.
    const ws = Workspace.search(opts.packs);
    const problems = manifestSourceProblems(manifest, ws);
    if (problems.length > 0) {
      outcomes.push(
        fail(`packs ${ws.dir} are not what the manifest was compiled from`, problems, {
          source: 'packs-test',
          packs: ws.dir,
        }),
      );
    } else {
      const report = runPackTests(ws);
      outcomes.push(
        fromPacks(
          ws.dir,
          null,
          {
            ok: report.failures.length === 0,
            cases: report.cases.length,
            failures: report.failures.map((f) => ({ key: `${f.run} [${f.set}] ${f.key}` })),
            coveragePercent: report.coveragePercent,
          },
          opts.minCases,
        ),
      );
    }
  }
  if (opts.reportFile) {
    const text = readText(opts.reportFile);
    const value = parseJson(text, opts.reportFile);
    const digest = digestOf(text);
    if (VitestReport.safeParse(value).success) outcomes.push(fromVitest(opts.reportFile, digest, VitestReport.parse(value), opts.minCases));
    else outcomes.push(fromPacks(opts.reportFile, digest, validateWith(PacksTestReport, value, opts.reportFile), opts.minCases));
  }
  if (outcomes.length === 0) return fail('no test evidence', ['give a test report (--test-report) or a packs folder to test (--packs)']);
  const failed = outcomes.filter((o) => o.status !== 'pass');
  const summary = outcomes.map((o) => o.summary).join('; ');
  const evidence = { runs: outcomes.map((o) => o.evidence) };
  return failed.length
    ? fail(
        summary,
        failed.flatMap((o) => o.reasons),
        evidence,
      )
    : pass(summary, evidence);
}
