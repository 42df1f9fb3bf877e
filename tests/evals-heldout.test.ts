import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';
import { loadDataset } from '../datasets/index.js';
import { AGENT_NAMES } from '../agents/index.js';
import { listSuites, loadSuite, runEval } from '../evals/index.js';
import type { LocalKeySigner } from '../signing/index.js';
import { signedManifestsHome } from './signed-manifests-home.js';

// The scores evals/README.md reports for the regression and held-out suites are what the suites
// measure today: each row of its table is run and every "metric estimate (low–high)" it states is
// compared with the report, to three decimals. A change in an agent, a pack or a set that moves a
// score fails here until the README says so.
let home: string;
let trustedKeysFile: string;
let signer: LocalKeySigner;
let manifestFiles: string[];

beforeAll(async () => {
  const made = await signedManifestsHome('charter-evals-heldout-');
  ({ home, trustedKeysFile, signer } = made);
  manifestFiles = Object.values(made.manifestFiles);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Row {
  agent: string;
  suite: string;
  dataset: string;
  labelledBy: string;
  claims: Array<{ metric: string; estimate: string; low: string; high: string }>;
}

/** The rows of the "Regression sets and held-out sets" table in evals/README.md. */
function readmeRows(): Row[] {
  const text = readFileSync(contentPath('evals', 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## Regression sets and held-out sets'));
  return section
    .split('\n')
    .filter((l) => /^\| [a-z() -]+ \| [a-z-]+ \| [a-z-]+@v\d+ \|/.test(l))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      const claims = [...cells[6]!.matchAll(/([a-z_]+) (\d\.\d{3}) \((\d\.\d{3})–(\d\.\d{3})\)/g)].map((m) => ({
        metric: m[1]!,
        estimate: m[2]!,
        low: m[3]!,
        high: m[4]!,
      }));
      return { agent: cells[1]!, suite: cells[2]!, dataset: cells[3]!, labelledBy: cells[5]!, claims };
    });
}

describe('regression and held-out scores in evals/README.md', () => {
  const rows = readmeRows();

  it('list every shipped suite, a regression set and a hand-labelled held-out set for every decision-making agent', () => {
    expect(rows.map((r) => r.suite).sort()).toEqual(listSuites().sort());
    for (const agent of AGENT_NAMES) {
      const own = rows.filter((r) => r.agent === agent);
      expect(own.filter((r) => !r.suite.endsWith('-heldout')).length, agent).toBeGreaterThan(0);
      expect(own.filter((r) => r.suite.endsWith('-heldout')).length, agent).toBeGreaterThan(0);
    }
    for (const r of rows) {
      expect(r.claims.length, r.suite).toBeGreaterThan(0);
      const card = loadDataset(r.dataset).card;
      expect(card.labelledBy, r.dataset).toBe(r.suite.endsWith('-heldout') ? 'human' : 'rule');
      const { suite } = loadSuite(r.suite);
      expect(suite.dataset).toBe(r.dataset);
      expect(suite.target.kind === 'strategy' ? suite.target.agent : 'gateway (all agents)', r.suite).toBe(r.agent);
    }
  });

  it.each(rows.map((r) => [r.suite, r] as const))('%s scores what the README says', { timeout: 180_000 }, async (_name, row) => {
    const gateway = loadSuite(row.suite).suite.target.kind === 'gateway';
    const { report } = await runEval({
      suite: row.suite,
      ...(gateway ? { manifests: { files: manifestFiles, trustedKeysFile } } : {}),
      signer,
      home,
      audit: null,
    });
    for (const c of row.claims) {
      const m = report.metrics.find((x) => x.name === c.metric);
      expect(m, `${row.suite}/${c.metric}`).toBeDefined();
      expect([m!.estimate!.toFixed(3), m!.low!.toFixed(3), m!.high!.toFixed(3)], `${row.suite}/${c.metric}`).toEqual([
        c.estimate,
        c.low,
        c.high,
      ]);
    }
    // Held-out sets report; they do not gate.
    if (row.suite.endsWith('-heldout')) expect(report.thresholds.filter((t) => t.source === 'suite')).toEqual([]);
  });
});
