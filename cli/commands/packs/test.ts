import { join } from 'node:path';
import type { Command } from 'commander';
import { LineCounter, parseDocument, isMap, isSeq } from 'yaml';
import { InputError, readText, writeFileAtomic } from '../../../common/index.js';
import { runPackTests, testFilter, type CaseResult, type TestReport, type Workspace } from '../../../policy-packs/index.js';
import { ciPath, writeCiReports, type CiCase, type CiTool } from '../../ci-report.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';
import { withExamples, withPackSearch, workspaceOf, type SearchOptions } from './shared.js';

interface TestOpts extends SearchOptions {
  minCoverage: string;
  report?: string;
  filter?: string;
  junit?: string;
  sarif?: string;
  json?: boolean;
}

function percent(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new InputError(`--min-coverage must be a number from 0 to 100, got '${text}'`, { field: '--min-coverage' });
  return n;
}

const PACK_TEST_TOOL: CiTool = {
  name: 'charter packs test',
  version: '1',
  rules: [
    {
      id: 'packs/own-test',
      description: "a pack's test against the pack and what it extends: decision and determining policies must match",
    },
    { id: 'packs/regression', description: "a base or domain test's expected deny must stay a deny in every agent's composed set" },
  ],
};

/** The line of each test (by name) in a tests file, for annotations; 1 when the file cannot be read. */
function testLines(file: string): Map<string, number> {
  const lines = new Map<string, number>();
  try {
    const counter = new LineCounter();
    const tests = parseDocument(readText(file), { lineCounter: counter }).get('tests', true);
    if (!isSeq(tests)) return lines;
    for (const item of tests.items) {
      if (!isMap(item) || !item.range) continue;
      const name = item.get('name');
      if (typeof name === 'string' && !lines.has(name)) lines.set(name, counter.linePos(item.range[0]).line);
    }
  } catch {
    // the report still names the file
  }
  return lines;
}

/** Every case as a CI case, located at its test in its file (the packs folder it was loaded from). */
function ciCases(ws: Workspace, report: TestReport): CiCase[] {
  const roots = new Map(ws.catalog.packs.map((p) => [p.key, p.root]));
  const lineCache = new Map<string, Map<string, number>>();
  return report.cases.map((c: CaseResult) => {
    const file = join(roots.get(c.pack) ?? ws.dir, c.file);
    if (!lineCache.has(file)) lineCache.set(file, testLines(file));
    const failure = c.pass
      ? undefined
      : {
          message: `${c.run === 'own' ? '' : `regression in ${c.set}: `}expected ${c.expect} by [${c.expectedDetermining.join(', ')}], got ${c.decision} by [${c.determining.join(', ')}]`,
          details: c.errors,
        };
    return {
      suite: `${c.run} ${c.set}`,
      name: `${c.test} [${c.tool}]`,
      rule: `packs/${c.run === 'own' ? 'own-test' : 'regression'}`,
      file: ciPath(file),
      line: lineCache.get(file)!.get(c.test) ?? 1,
      ...(failure ? { failure } : {}),
    };
  });
}

function printHuman(report: TestReport, min: number): void {
  for (const f of report.failures) {
    printLine(
      `FAIL ${f.run} [${f.set}] ${f.key}: expected ${f.expect} by [${f.expectedDetermining.join(', ')}], got ${f.decision} by [${f.determining.join(', ')}]${f.errors.length ? ` errors: ${f.errors.join('; ')}` : ''}`,
    );
  }
  printTable(
    ['pack', 'covered', 'policies', 'coverage'],
    report.packs.map((p) => [p.pack, p.covered, p.total, `${p.percent.toFixed(1)}%`]),
  );
  const uncovered = report.policies.filter((p) => p.hits === 0);
  if (uncovered.length) printLine(`not covered: ${uncovered.map((p) => `${p.id} (${p.file})`).join(', ')}`);
  printLine(
    `${report.cases.length} cases, ${report.failures.length} failed, coverage ${report.coveragePercent.toFixed(1)}% (minimum ${min}%)`,
  );
}

function runTests(opts: TestOpts): number {
  const min = percent(opts.minCoverage);
  const ws = workspaceOf(opts);
  const report = runPackTests(ws, opts.filter === undefined ? undefined : testFilter(opts.filter));
  if (opts.filter !== undefined && report.cases.length === 0)
    throw new InputError(`no test matches --filter '${opts.filter}' (it is matched against pack, file, test and agent names)`, {
      field: '--filter',
    });
  const ok = report.failures.length === 0 && report.coveragePercent >= min;
  const json = {
    ok,
    cases: report.cases.length,
    failures: report.failures,
    coveragePercent: report.coveragePercent,
    minCoverage: min,
    ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
    packs: report.packs,
    policies: report.policies,
  };
  if (opts.report) writeFileAtomic(opts.report, `${JSON.stringify(json, null, 2)}\n`);
  writeCiReports(opts, 'charter packs test', PACK_TEST_TOOL, ciCases(ws, report));
  if (opts.json) printJson(json);
  else printHuman(report, min);
  return ok ? 0 : 1;
}

export function registerTest(packs: Command): void {
  const cmd = withPackSearch(
    withJson(
      packs
        .command('test')
        .description(
          'run the pack tests (own set, then base/domain regression against every agent) with per-policy coverage; exit 1 on a failure or coverage below the minimum',
        ),
    ),
  )
    .option('--min-coverage <percent>', 'fail when overall policy coverage is below this percentage', '0')
    .option('--filter <pattern>', 'run only tests whose pack, file, name or agent contains this text (coverage then counts only those)')
    .option('--report <file>', 'also write the JSON report here (test evidence for charter release --test-report)')
    .option('--junit <file>', 'also write a JUnit XML report (one testcase per case) for CI systems')
    .option('--sarif <file>', 'also write SARIF 2.1.0 (one result per failure, at its test file and line) for code scanning');
  withExamples(cmd, [
    'charter packs test --min-coverage 100',
    'charter packs test --packs ./my-packs --filter my-agent',
    'charter packs test --packs ./my-packs --junit junit.xml --sarif packs.sarif',
  ]).action(action((opts: TestOpts) => runTests(opts)));
}
