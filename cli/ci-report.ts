import { relative } from 'node:path';
import { writeFileAtomic } from '../common/index.js';

/**
 * Results for CI systems: JUnit XML (test reports in Jenkins, GitLab, GitHub Actions) and SARIF
 * 2.1.0 (code-scanning annotations on the file and line). Both are written from one list of cases.
 */
export interface CiCase {
  /** The suite a case belongs to (JUnit testsuite): a pack set or an agent's release. */
  suite: string;
  name: string;
  /** The rule a failure breaks (SARIF ruleId), e.g. `packs/own-test`, `release/evals`. */
  rule: string;
  /** File and 1-based line the case is written at (a test's YAML item, a gate's entry). */
  file: string;
  line: number;
  /** Set when the case failed: the one-line reason, then details. */
  failure?: { message: string; details: string[] };
  /** Something to see that does not fail the case: JUnit system-out, a SARIF result at level warning. */
  warning?: { message: string; details: string[] };
}

export interface CiTool {
  name: string;
  version: string;
  rules: Array<{ id: string; description: string }>;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
// XML 1.0 cannot carry control characters other than tab, newline and carriage return, escaped or not.
const allowedInXml = (c: string) => c >= ' ' || c === '\t' || c === '\n' || c === '\r';
const xml = (s: string) => [...s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)].filter(allowedInXml).join('');

/** JUnit XML: one testsuite per suite, one testcase per case, a failure element on each failure. */
export function junitXml(name: string, cases: CiCase[]): string {
  const suites = new Map<string, CiCase[]>();
  for (const c of cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
  const failures = cases.filter((c) => c.failure).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" tests="${cases.length}" failures="${failures}">`,
  ];
  for (const [suite, list] of suites) {
    const failed = list.filter((c) => c.failure).length;
    lines.push(`  <testsuite name="${xml(suite)}" tests="${list.length}" failures="${failed}" errors="0" skipped="0">`);
    for (const c of list) {
      const attrs = `name="${xml(c.name)}" classname="${xml(suite)}" file="${xml(c.file)}" line="${c.line}"`;
      if (!c.failure && !c.warning) lines.push(`    <testcase ${attrs}/>`);
      else {
        lines.push(`    <testcase ${attrs}>`);
        if (c.failure)
          lines.push(
            `      <failure message="${xml(c.failure.message)}" type="${xml(c.rule)}">${xml(c.failure.details.join('\n'))}</failure>`,
          );
        if (c.warning)
          lines.push(`      <system-out>${xml(['warning: ' + c.warning.message, ...c.warning.details].join('\n'))}</system-out>`);
        lines.push('    </testcase>');
      }
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** SARIF 2.1.0: one result per failed case (level error) and per warning (level warning), located at its file and line (relative to the working folder). */
export function sarifLog(tool: CiTool, cases: CiCase[]): string {
  const results = cases
    .flatMap((c) => [
      ...(c.failure ? [{ c, level: 'error', found: c.failure }] : []),
      ...(c.warning ? [{ c, level: 'warning', found: c.warning }] : []),
    ])
    .map(({ c, level, found }) => ({
      ruleId: c.rule,
      level,
      message: { text: [found.message, ...found.details].join('\n') },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: c.file, uriBaseId: '%SRCROOT%' },
            region: { startLine: c.line },
          },
        },
      ],
    }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            rules: tool.rules.map((r) => ({ id: r.id, shortDescription: { text: r.description } })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: `file://${process.cwd()}/` } },
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/** A path as CI annotations name it: relative to the working folder, with forward slashes. */
export function ciPath(file: string): string {
  return relative(process.cwd(), file).split('\\').join('/');
}

/** Writes the JUnit and SARIF files a command was asked for (`--junit FILE`, `--sarif FILE`). */
export function writeCiReports(opts: { junit?: string; sarif?: string }, name: string, tool: CiTool, cases: CiCase[]): void {
  if (opts.junit) writeFileAtomic(opts.junit, junitXml(name, cases));
  if (opts.sarif) writeFileAtomic(opts.sarif, sarifLog(tool, cases));
}
