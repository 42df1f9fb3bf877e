import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, writeDatasetVersion, type Dataset } from '../datasets/index.js';
import {
  calibrateJudge,
  Judge,
  JudgeConfig,
  JudgeError,
  judgeStanding,
  loadSuite,
  ResponseCache,
  runEval,
  runSuite,
  saveCalibration,
  strategyTarget,
} from '../evals/index.js';
import { addTrustedKeys, generateEd25519Key, loadPrivateKey, loadTrustedKeys, LocalKeySigner } from '../signing/index.js';
import { converseShapeProblems, startConverseServer, type ConverseScript } from './servers/converse.js';
import { startOpenAiServer } from './servers/openai.js';

let home: string;
let signer: LocalKeySigner;
const verdict = (pass: boolean, reason = 'scripted') => JSON.stringify({ pass, score: pass ? 1 : 0, reason });

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'charter-evals-judge-'));
  process.env.CHARTER_HOME = home;
  // The SDK signs every request (SigV4); the local server checks that a signature is present.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';
  process.env.AWS_REGION = 'us-east-1';
  const key = generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']);
  addTrustedKeys(join(home, 'keys', 'trusted-keys.json'), [key.trusted]);
  signer = new LocalKeySigner(loadPrivateKey(key.privateKeyFile));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

function converseJudge(url: string, extra: Partial<JudgeConfig> = {}, cache: ResponseCache | null = null): Judge {
  const config = JudgeConfig.parse({
    provider: 'bedrock-converse',
    model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
    endpoint: url,
    maxAttempts: 3,
    ...extra,
  });
  return new Judge(config, cache);
}

function awardSubset(n: number): { dataset: Dataset; suite: ReturnType<typeof loadSuite> } {
  const dataset = loadDataset('award-communications@v1');
  return { dataset: { ...dataset, cases: dataset.cases.slice(0, n) }, suite: loadSuite('award-communications') };
}

async function runAwardSuite(judge: Judge, n: number) {
  const { dataset, suite } = awardSubset(n);
  return runSuite({
    suite: suite.suite,
    suiteFile: suite.file,
    dataset,
    target: strategyTarget('award-communications'),
    judge,
    concurrency: 2,
  });
}

describe('Bedrock Converse judge (real SDK client, local Converse server)', () => {
  it(
    'sends a well-formed Converse request, retries a ThrottlingException, and grades through promptfoo',
    { timeout: 180_000 },
    async () => {
      let calls = 0;
      const script: ConverseScript = (call) => (++calls === 1 ? { throttle: true } : { text: verdict(call.userText.includes('PO-')) });
      const server = await startConverseServer(script);
      try {
        const run = await runAwardSuite(converseJudge(server.url), 3);
        expect(run.cases.map((c) => c.scores.judge_score)).toEqual(
          Array(3).fill({ status: 'ok', value: 1, pass: true, reason: 'scripted', judgeScore: 1 }),
        );
        // 3 cases + 1 throttled attempt, every one shaped like the SDK's Converse call.
        expect(server.requests).toHaveLength(4);
        for (const r of server.requests) expect(converseShapeProblems(r)).toEqual([]);
        const req = server.requests[1]!;
        expect(req.path).toBe(`/model/${encodeURIComponent('anthropic.claude-3-5-haiku-20241022-v1:0')}/converse`);
        const body = req.body as {
          system: Array<{ text: string }>;
          messages: Array<{ role: string; content: Array<{ text: string }> }>;
          inferenceConfig: Record<string, number>;
        };
        expect(body.system[0]!.text).toContain('rubric');
        expect(body.messages[0]!.role).toBe('user');
        expect(body.messages[0]!.content[0]!.text).toContain('procurement compliance reviewer');
        expect(body.messages[0]!.content[0]!.text).toContain('Dear ');
        expect(body.inferenceConfig).toEqual({ maxTokens: 512, temperature: 0 });
        expect(run.cases[0]!.usage.judge.judge_score).toMatchObject({ inputTokens: 120, outputTokens: 30, cached: false });
      } finally {
        await server.close();
      }
    },
  );

  it('malformed judge output is a judge error, never a pass', async () => {
    const server = await startConverseServer(() => ({ text: 'Looks fine to me, I would pass it.' }));
    try {
      const run = await runAwardSuite(converseJudge(server.url), 2);
      for (const c of run.cases) {
        expect(c.scores.judge_score).toMatchObject({ status: 'error', value: 0, pass: false });
        expect(c.scores.judge_score!.reason).toContain('malformed judge output');
        // Ground-truth scorers are unaffected by the judge failing.
        expect(c.scores.po_grouping).toMatchObject({ status: 'ok', pass: true });
      }
    } finally {
      await server.close();
    }
  });

  it('a verdict with the wrong shape is also a judge error', async () => {
    const server = await startConverseServer(() => ({ text: JSON.stringify({ pass: 'yes', score: 7 }) }));
    try {
      await expect(converseJudge(server.url).grade('[{"role":"user","content":"x"}]', 'k')).rejects.toThrow(/malformed judge output: pass/);
    } finally {
      await server.close();
    }
  });

  it('gives up after maxAttempts of throttling with a judge error naming the exception', async () => {
    const server = await startConverseServer(() => ({ throttle: true }));
    try {
      const judge = converseJudge(server.url, { maxAttempts: 2 });
      const err = await judge.grade('[{"role":"user","content":"x"}]', 'k').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JudgeError);
      expect(String((err as Error).message)).toContain('ThrottlingException');
      expect(server.requests).toHaveLength(2);
      expect(judge.calls.get('k')?.error).toContain('ThrottlingException');
    } finally {
      await server.close();
    }
  });

  it('caches validated answers by request hash', async () => {
    const server = await startConverseServer(() => ({ text: verdict(true) }));
    try {
      const cache = new ResponseCache(join(home, 'cache', 'judge-test'));
      const prompt = '[{"role":"system","content":"grade"},{"role":"user","content":"letter"}]';
      await converseJudge(server.url, {}, cache).grade(prompt, 'a');
      const second = converseJudge(server.url, {}, cache);
      expect(await second.grade(prompt, 'b')).toEqual({ pass: true, score: 1, reason: 'scripted' });
      expect(second.calls.get('b')).toMatchObject({ cached: true });
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('OpenAI-compatible judge (fetch, local chat completions server)', () => {
  it('authenticates from the named env var, honours Retry-After on 429, and grades', async () => {
    process.env.CHARTER_TEST_JUDGE_KEY = 'sk-local-test';
    let calls = 0;
    const server = await startOpenAiServer(
      (call) =>
        ++calls === 1 ? { status: 429, retryAfter: '0' } : { text: '```json\n' + verdict(call.userText.includes('Dear')) + '\n```' },
      { apiKey: 'sk-local-test' },
    );
    try {
      const config = JudgeConfig.parse({
        provider: 'openai',
        model: 'gpt-judge',
        baseUrl: `${server.url}/v1`,
        apiKeyEnv: 'CHARTER_TEST_JUDGE_KEY',
      });
      const run = await runAwardSuite(new Judge(config, null), 2);
      expect(run.cases.map((c) => c.scores.judge_score?.pass)).toEqual([true, true]);
      expect(server.requests).toHaveLength(3);
      const body = server.requests[1]!.body as {
        model: string;
        temperature: number;
        max_tokens: number;
        messages: Array<{ role: string }>;
      };
      expect(body).toMatchObject({ model: 'gpt-judge', temperature: 0, max_tokens: 512 });
      expect(body.messages.map((m) => m.role)).toEqual(['system', 'user']);
      expect(run.cases[0]!.usage.judge.judge_score).toMatchObject({ inputTokens: 100, outputTokens: 20 });
    } finally {
      await server.close();
    }
  });

  it('malformed output and a rejected key are judge errors', async () => {
    const server = await startOpenAiServer(() => ({ text: 'PASS' }), { apiKey: 'right' });
    try {
      const good = new Judge(JudgeConfig.parse({ provider: 'openai', model: 'm', baseUrl: `${server.url}/v1` }), null);
      await expect(good.grade('x', 'k')).rejects.toThrow(/HTTP 401/);
      process.env.CHARTER_TEST_JUDGE_KEY = 'right';
      const keyed = new Judge(
        JudgeConfig.parse({ provider: 'openai', model: 'm', baseUrl: `${server.url}/v1`, apiKeyEnv: 'CHARTER_TEST_JUDGE_KEY' }),
        null,
      );
      await expect(keyed.grade('x', 'k')).rejects.toThrow(/malformed judge output/);
    } finally {
      await server.close();
    }
  });
});

describe('calibration and gating', () => {
  // A scripted oracle for the plumbing: it answers the human label of the letter it is shown,
  // looked up in the labelled set. It is not a model and measures nothing about any model.
  const labelled = loadDataset('judge-calibration@v1').cases.map((c) => ({
    text: (c.input as { output: string }).output,
    label: (c.expected as { label: string }).label,
  }));
  const oracle: ConverseScript = (call) => {
    const hit = labelled.find((l) => call.userText.includes(l.text));
    return { text: verdict(hit ? hit.label === 'pass' : call.userText.includes('Dear ')) };
  };

  it('a judge that always passes has kappa 0 and may not gate', { timeout: 180_000 }, async () => {
    const server = await startConverseServer(() => ({ text: verdict(true) }));
    try {
      const judge = converseJudge(server.url, { model: 'always-pass' });
      const c = await calibrateJudge({ judge });
      expect(c).toMatchObject({ n: 24, accuracy: 0.5, kappa: 0, passed: false, errors: 0 });
      expect(c.disagreements).toHaveLength(12);
      // Per-label counts (human x judge): every human-labelled fail was judged pass, and the cells add up to the rows.
      expect(c.confusion).toEqual({
        labels: ['fail', 'pass'],
        counts: [
          [0, 12],
          [0, 12],
        ],
      });
      expect(c.confusion!.counts.flat().reduce((a, b) => a + b, 0)).toBe(c.n);
      await saveCalibration(c, signer, home);
      const pin = loadSuite('award-communications').suite.judgeCalibration!;
      const standing = judgeStanding(judge, pin, loadTrustedKeys(join(home, 'keys', 'trusted-keys.json')), home);
      expect(standing.gating).toBe(false);
      expect(standing.note).toMatch(/kappa 0\.000 \(95% lower bound -?[\d.]+\) < required 0\.6/);
    } finally {
      await server.close();
    }
  });

  it(
    'a calibrated judge gates the award-communications suite; without a judge the threshold fails closed',
    { timeout: 180_000 },
    async () => {
      const server = await startConverseServer(oracle);
      try {
        const judge = converseJudge(server.url, { model: 'oracle' });
        const c = await calibrateJudge({ judge });
        expect(c).toMatchObject({ accuracy: 1, kappa: 1, passed: true });
        await saveCalibration(c, signer, home);

        const withJudge = await runEval({ suite: 'award-communications', judge, signer, home, audit: null });
        const judgeMetric = withJudge.report.metrics.find((m) => m.name === 'judge_score')!;
        expect(judgeMetric).toMatchObject({ status: 'ok', gating: true, n: 120, estimate: 1 });
        expect(withJudge.report.thresholds.find((t) => t.metric === 'judge_score')).toMatchObject({ verdict: 'pass' });
        expect(withJudge.report.judge).toMatchObject({ gating: true, digest: judge.digest });
        expect(withJudge.report.verdict).toBe('pass');

        const noJudge = await runEval({ suite: 'award-communications', judge: null, signer, home, audit: null });
        expect(noJudge.report.metrics.find((m) => m.name === 'judge_score')).toMatchObject({ status: 'not-run', estimate: null });
        expect(noJudge.report.thresholds.find((t) => t.metric === 'judge_score')).toMatchObject({
          verdict: 'fail',
          reason: 'metric not run (no judge configured)',
        });
        expect(noJudge.report.verdict).toBe('fail');
      } finally {
        await server.close();
      }
    },
  );

  it(
    'calibration is bound to the human-labelled set the suite pins: rule labels are refused, a small self-labelled set neither gates nor replaces the record',
    { timeout: 180_000 },
    async () => {
      const server = await startConverseServer(oracle);
      try {
        const judge = converseJudge(server.url, { model: 'oracle-bound' });
        // Labels made by a rule are refused outright.
        await expect(calibrateJudge({ judge, dataset: 'kraljic-classification@v1' })).rejects.toThrow(/labelled by 'rule'/);

        // Eight letters labelled with the judge's own answers: perfect agreement, but the record
        // is stored apart from the pinned set's, and 8 rows leave kappa's lower bound under 0.6.
        const root = join(home, 'self-labelled');
        const src = loadDataset('judge-calibration@v1');
        writeDatasetVersion(
          root,
          'judge-calibration',
          'v1',
          { ...src.card, generator: null, limitations: 'eight rows labelled from the judge under test' },
          src.schema,
          src.cases.slice(0, 8),
        );
        const small = await calibrateJudge({ judge, datasetsRoot: root });
        expect(small).toMatchObject({ n: 8, kappa: 1, passed: false });
        expect(small.kappaLow).toBeLessThan(0.6);
        const smallFile = await saveCalibration(small, signer, home);
        const trusted = loadTrustedKeys(join(home, 'keys', 'trusted-keys.json'));
        const pin = loadSuite('award-communications').suite.judgeCalibration!;
        expect(judgeStanding(judge, pin, trusted, home)).toMatchObject({ gating: false, note: expect.stringContaining('not calibrated') });

        const full = await calibrateJudge({ judge });
        const fullFile = await saveCalibration(full, signer, home);
        expect(fullFile).not.toBe(smallFile);
        expect(judgeStanding(judge, pin, trusted, home)).toMatchObject({ gating: true });
        // A suite pinning more rows than the set has refuses the calibration.
        expect(judgeStanding(judge, { ...pin, minCases: 50 }, trusted, home).note).toContain('the suite requires 50');
      } finally {
        await server.close();
      }
    },
  );

  it('an uncalibrated judge is run and reported but may not gate', { timeout: 180_000 }, async () => {
    const server = await startConverseServer(() => ({ text: verdict(true) }));
    try {
      const judge = converseJudge(server.url, { model: 'never-calibrated' });
      const r = await runEval({ suite: 'award-communications', judge, signer, home, audit: null });
      expect(r.report.metrics.find((m) => m.name === 'judge_score')).toMatchObject({ status: 'ok', estimate: 1, gating: false });
      expect(r.report.thresholds.find((t) => t.metric === 'judge_score')?.reason).toContain('judge not calibrated');
      expect(r.report.verdict).toBe('fail');
    } finally {
      await server.close();
    }
  });
});
