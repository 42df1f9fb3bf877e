import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { contentPath, readYaml } from '../common/index.js';
import { suiteEvidence } from '../evals/index.js';

// Every eval threshold a shipped intent pack declares pins the suite and dataset as they are
// shipped: an edit to a suite file (even a comment) or a dataset must come with new pins, or
// every release of that agent fails its evals gate.
const Threshold = z.object({ suite: z.string(), suiteDigest: z.string(), datasetDigest: z.string(), minCases: z.number() });
const Pins = z.object({ agent: z.object({ evalThresholds: z.array(Threshold) }) });

const intentDir = contentPath('policy-packs', 'packs', 'intent');

it.each(readdirSync(intentDir))('%s: its eval pins are the shipped suites and datasets', (agent) => {
  const thresholds = readYaml(join(intentDir, agent, 'pack.yaml'), Pins).agent.evalThresholds;
  expect(thresholds.length).toBeGreaterThan(0);
  for (const t of thresholds) {
    const shipped = suiteEvidence(t.suite);
    expect({ suite: t.suite, suiteDigest: t.suiteDigest, datasetDigest: t.datasetDigest }).toEqual({
      suite: t.suite,
      suiteDigest: shipped.suiteDigest,
      datasetDigest: shipped.datasetDigest,
    });
    expect(shipped.cases).toBeGreaterThanOrEqual(t.minCases);
  }
});
