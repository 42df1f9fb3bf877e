import type { CallDecision } from './engine.js';
import { charterGroupsIn, expandTest, FIXTURE_AGENT, type CorpusCase } from './corpus.js';
import type { LoadedTest } from './load.js';
import type { SetUnderTest, Workspace } from './workspace.js';

export interface CaseResult {
  key: string;
  /** own: the pack's tests against its own set; regression: a base/domain test against an agent's set. */
  run: 'own' | 'regression';
  /** The set the case ran against: agent name or root pack key. */
  set: string;
  pack: string;
  file: string;
  test: string;
  tool: string;
  expect: 'allow' | 'deny';
  decision: 'allow' | 'deny';
  expectedDetermining: string[];
  determining: string[];
  errors: string[];
  pass: boolean;
}

export interface PolicyCoverage {
  id: string;
  pack: string;
  file: string;
  /** How many case runs had the policy among the determining policies. */
  hits: number;
}

export interface PackCoverage {
  pack: string;
  covered: number;
  total: number;
  percent: number;
}

export interface TestReport {
  cases: CaseResult[];
  failures: CaseResult[];
  policies: PolicyCoverage[];
  packs: PackCoverage[];
  coveragePercent: number;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/** Expands a pack's tests against a set under test. */
export function casesFor(sut: SetUnderTest, tests: LoadedTest[], ws: Workspace, regression: boolean): CorpusCase[] {
  const ctx = {
    tools: sut.set.tools,
    knownTools: ws.knownTools(),
    charterGroups: charterGroupsIn([sut.set.schemaJson, ...ws.knownSchemas()]),
    agent: sut.set.agent?.name ?? FIXTURE_AGENT,
    fixtures: sut.fixtures,
    entityTypes: sut.set.entityTypes,
    regression,
  };
  return tests.flatMap((t) => expandTest(t, ctx, sut.engine));
}

function judge(c: CorpusCase, d: CallDecision, run: CaseResult['run'], set: string): CaseResult {
  const expect = c.source.test.expect;
  const expectedDetermining = c.source.test.determining;
  const pass =
    run === 'own'
      ? d.decision === expect && sameSet(d.determiningPolicies, expectedDetermining)
      : !(expect === 'deny' && d.decision === 'allow');
  return {
    key: c.key,
    run,
    set,
    pack: c.source.pack,
    file: c.source.file,
    test: c.source.test.name,
    tool: c.call.tool,
    expect,
    decision: d.decision,
    expectedDetermining,
    determining: d.determiningPolicies,
    errors: d.errors,
    pass,
  };
}

/** Every base and domain test of an agent's set, run against that set (regression). */
export function runRegression(
  ws: Workspace,
  sut: SetUnderTest,
  onDecision?: (c: CorpusCase, d: CallDecision) => void,
  selected: TestSelector = () => true,
): CaseResult[] {
  const inherited = sut.set.packs
    .filter((p) => p.meta.layer !== 'intent')
    .flatMap((p) => p.tests)
    .filter((t) => selected(t, sut.set.name));
  return casesFor(sut, inherited, ws, true).map((c) => {
    const d = sut.engine.authorizeCall(c.call, c.resolver);
    onDecision?.(c, d);
    return judge(c, d, 'regression', sut.set.name);
  });
}

/** Chooses which tests run: a test and the set it would run against (agent name or root pack key). */
export type TestSelector = (test: LoadedTest, set: string) => boolean;

/**
 * `--filter PATTERN`: a test runs when the pattern occurs in its pack's name, its file, its name,
 * or the name of the set it runs against (so an agent's name selects its regression cases too).
 */
export function testFilter(pattern: string): TestSelector {
  return (t, set) => [t.pack, t.file, t.test.name, set].some((s) => s.includes(pattern));
}

/**
 * Runs the corpus of the workspace's own packs: each pack's tests against the pack and its
 * resolved dependencies, then every base and domain test against each own agent's composed set
 * (expected deny must stay deny). `selected` narrows the tests (`--filter`). Coverage is of the
 * own packs' policies: one is covered when any run had it among the determining policies (shipped
 * packs that are only extended are covered by their own tests).
 */
export function runPackTests(ws: Workspace, selected: TestSelector = () => true): TestReport {
  const cases: CaseResult[] = [];
  const hits = new Map<string, number>();
  const count = (sut: SetUnderTest, d: CallDecision) => {
    for (const id of d.determiningPolicies) {
      const p = sut.set.policies.get(id);
      const pack = p && sut.set.packs.find((x) => x.meta.name === p.pack);
      if (pack) hits.set(`${pack.key} ${id}`, (hits.get(`${pack.key} ${id}`) ?? 0) + 1);
    }
  };
  for (const pack of ws.own) {
    const sut = ws.setFor(pack);
    for (const c of casesFor(
      sut,
      pack.tests.filter((t) => selected(t, sut.set.name)),
      ws,
      false,
    )) {
      const d = sut.engine.authorizeCall(c.call, c.resolver);
      count(sut, d);
      cases.push(judge(c, d, 'own', sut.set.name));
    }
  }
  for (const agent of ws.ownAgents()) {
    const sut = ws.agentSet(agent);
    cases.push(...runRegression(ws, sut, (_c, d) => count(sut, d), selected));
  }
  const policies: PolicyCoverage[] = [];
  const packs: PackCoverage[] = [];
  for (const pack of ws.own) {
    let covered = 0;
    for (const p of pack.policies) {
      const n = hits.get(`${pack.key} ${p.id}`) ?? 0;
      if (n > 0) covered++;
      policies.push({ id: p.id, pack: pack.key, file: p.file, hits: n });
    }
    const total = pack.policies.length;
    packs.push({ pack: pack.key, covered, total, percent: total === 0 ? 100 : (100 * covered) / total });
  }
  const total = policies.length;
  const coveragePercent = total === 0 ? 100 : (100 * policies.filter((p) => p.hits > 0).length) / total;
  return { cases, failures: cases.filter((c) => !c.pass), policies, packs, coveragePercent };
}
