import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InputError, writeFileAtomic } from '../common/index.js';
import { loadDataset } from '../datasets/index.js';
import {
  calibrateJudge,
  Judge,
  JudgeConfig,
  JudgeError,
  ResponseCache,
  loadSuite,
  runEval,
  runSuite,
  strategyTarget,
  Suite,
} from '../evals/index.js';
import { generateEd25519Key, loadPrivateKey, LocalKeySigner } from '../signing/index.js';
import { startConverseServer } from './servers/converse.js';
import { startOpenAiServer } from './servers/openai.js';

// The judge path end to end against local model servers: what a verdict counts as, one record
// per judge scorer per case, usage of cached reruns, per-attempt timeouts, and suite field paths
// that resolve in no dataset case.

let home: string;
let signer: LocalKeySigner;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'charter-evals-judge-path-'));
  process.env.CHARTER_HOME = home;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';
  process.env.AWS_REGION = 'us-east-1';
  signer = new LocalKeySigner(loadPrivateKey(generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']).privateKeyFile));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const openAiJudge = (url: string, extra: Record<string, unknown> = {}, cache: ResponseCache | null = null) =>
  new Judge(JudgeConfig.parse({ provider: 'openai', model: 'judge-m', baseUrl: `${url}/v1`, maxAttempts: 1, ...extra }), cache);

/** Two judge scorers over the award letters, told apart by their rubric text. */
function twoJudgeSuite(): { file: string; suite: Suite } {
  const spec = {
    name: 'two-judges',
    description: 'two rubrics graded by one judge',
    target: { kind: 'strategy', agent: 'award-communications' },
    dataset: 'award-communications@v1',
    scorers: [
      { name: 'tone', type: 'judge', output: 'communications', rubric: { text: 'RUBRIC-TONE: letters are courteous' } },
      { name: 'facts', type: 'judge', output: 'communications', rubric: { text: 'RUBRIC-FACTS: letters state the PO total' } },
    ],
    judgeCalibration: loadSuite('award-communications').suite.judgeCalibration,
  };
  const file = join(home, 'two-judges.yaml');
  writeFileAtomic(file, stringify(spec));
  return { file, suite: Suite.parse(spec) };
}

/** The two-judge suite over the first `n` award cases, graded by `judge`. */
async function runTwoJudges(judge: Judge, n: number) {
  const { file, suite } = twoJudgeSuite();
  const dataset = loadDataset('award-communications@v1');
  return runSuite({
    suite,
    suiteFile: file,
    dataset: { ...dataset, cases: dataset.cases.slice(0, n) },
    target: strategyTarget('award-communications'),
    judge,
    concurrency: n,
  });
}

describe('what a judge verdict counts as', () => {
  it(
    '{pass: true, score: 0.9} is a pass in runs and in calibration alike (pass decides, score is recorded)',
    { timeout: 180_000 },
    async () => {
      const server = await startOpenAiServer(() => ({ text: JSON.stringify({ pass: true, score: 0.9, reason: 'good, not perfect' }) }));
      try {
        const run = await runTwoJudges(openAiJudge(server.url), 3);
        for (const c of run.cases)
          expect(c.scores.tone).toEqual({ status: 'ok', value: 1, pass: true, reason: 'good, not perfect', judgeScore: 0.9 });
        const c = await calibrateJudge({ judge: openAiJudge(server.url, { model: 'always-pass-0.9' }) });
        // Calibration counts the same verdicts as passes: half the labelled letters are fails.
        expect(c).toMatchObject({ n: 24, accuracy: 0.5, errors: 0 });
      } finally {
        await server.close();
      }
    },
  );
});

describe('two judge scorers in one suite', () => {
  it(
    'get one record per scorer per case: a valid answer is not an error, a malformed one is not a zero, usage counts every call',
    { timeout: 180_000 },
    async () => {
      // The tone rubric gets valid verdicts, the facts rubric prose.
      const server = await startOpenAiServer((call) =>
        call.userText.includes('RUBRIC-TONE')
          ? { text: JSON.stringify({ pass: true, score: 1, reason: 'courteous' }) }
          : { text: 'The facts look right.' },
      );
      try {
        const run = await runTwoJudges(openAiJudge(server.url), 4);
        expect(server.requests).toHaveLength(8);
        for (const c of run.cases) {
          expect(c.scores.tone).toMatchObject({ status: 'ok', pass: true, value: 1 });
          expect(c.scores.facts).toMatchObject({ status: 'error', pass: false, value: 0 });
          expect(c.scores.facts!.reason).toContain('malformed judge output');
          // The test server bills 100 prompt + 20 completion tokens per call, malformed answers too.
          expect(c.usage.judge).toEqual({
            tone: { inputTokens: 100, outputTokens: 20, costUsd: null, cached: false },
            facts: { inputTokens: 100, outputTokens: 20, costUsd: null, cached: false },
          });
        }
      } finally {
        await server.close();
      }
    },
  );

  it('a cached rerun reports zero new tokens and zero cost, and counts its hits', { timeout: 180_000 }, async () => {
    const server = await startOpenAiServer(() => ({ text: JSON.stringify({ pass: true, score: 1, reason: 'ok' }) }));
    try {
      const { file } = twoJudgeSuite();
      const cache = new ResponseCache(join(home, 'cache', 'judge-rerun'));
      const pricing = { pricing: { inputPer1k: 1, outputPer1k: 2 } };
      const first = await runEval({ suite: file, judge: openAiJudge(server.url, pricing, cache), signer, home, audit: null });
      const calls = 120 * 2;
      expect(first.report.usage).toMatchObject({ judgeTokens: calls * 120, judgeCalls: calls, judgeCacheHits: 0 });
      expect(first.report.usage.costUsd).toBeCloseTo(calls * (0.1 + 0.04), 9);
      const again = await runEval({ suite: file, judge: openAiJudge(server.url, pricing, cache), signer, home, audit: null });
      expect(again.report.usage).toMatchObject({ judgeTokens: 0, judgeCalls: calls, judgeCacheHits: calls, costUsd: 0 });
      expect(server.requests).toHaveLength(calls);
    } finally {
      await server.close();
    }
  });
});

describe('per-call judge timeout', () => {
  it('timeoutMs is accepted with a default of 60 s', () => {
    expect(JudgeConfig.parse({ provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' }).timeoutMs).toBe(60_000);
    expect(JudgeConfig.parse({ provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: 250 }).timeoutMs).toBe(250);
  });

  it('a hung OpenAI-compatible endpoint times out per attempt and is retried, then a judge error', { timeout: 30_000 }, async () => {
    const server = await startOpenAiServer(() => ({ hang: true }));
    try {
      const judge = openAiJudge(server.url, { timeoutMs: 300, maxAttempts: 2 });
      const t0 = Date.now();
      const err = await judge.grade('x', 'k').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JudgeError);
      expect((err as Error).message).toContain('timed out after 300 ms');
      expect(server.requests).toHaveLength(2);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await server.close();
    }
  });

  it('a hung Converse endpoint times out through the SDK request handler', { timeout: 30_000 }, async () => {
    const server = await startConverseServer(() => ({ hang: true }));
    try {
      const judge = new Judge(
        JudgeConfig.parse({ provider: 'bedrock-converse', model: 'hung-model', endpoint: server.url, maxAttempts: 1, timeoutMs: 300 }),
        null,
      );
      const t0 = Date.now();
      await expect(judge.grade('[{"role":"user","content":"x"}]', 'k')).rejects.toBeInstanceOf(JudgeError);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await server.close();
    }
  });
});

describe('suite field paths', () => {
  it('a path into the dataset that resolves in no case is an input error naming the suite line', { timeout: 60_000 }, async () => {
    const file = join(home, 'typo.yaml');
    writeFileAtomic(
      file,
      [
        'name: typo',
        'description: a misspelt expected field',
        'target: { kind: strategy, agent: kraljic-classifier }',
        'dataset: kraljic-classification@v1',
        'scorers:',
        '  - { name: accuracy, type: exact, output: quadrant, expected: expected.quadrant }',
        '  - { name: typo, type: exact, output: quadrant, expected: expected.quadrnat }',
        '',
      ].join('\n'),
    );
    const err = await runEval({ suite: file, signer, home, audit: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).location).toMatchObject({ file, line: 7, field: 'scorers[1].expected' });
    expect((err as Error).message).toContain("'expected.quadrnat' resolves in no case of kraljic-classification@v1");
  });
});
