import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { classifyKraljic, KraljicInput } from '../agents/index.js';
import { writeFileAtomic } from '../common/index.js';
import { generateDataset } from '../datasets/index.js';
import { ResponseCache, runEval } from '../evals/index.js';
import { generateEd25519Key, loadPrivateKey, LocalKeySigner } from '../signing/index.js';
import { startConverseServer, type ConverseScript } from './servers/converse.js';

let home: string;
let signer: LocalKeySigner;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'charter-evals-model-'));
  process.env.CHARTER_HOME = home;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';
  signer = new LocalKeySigner(loadPrivateKey(generateEd25519Key(join(home, 'keys'), 'eval-report', ['eval-report']).privateKeyFile));
  generateDataset('kraljic-classification', { root: join(home, 'datasets'), count: 20, seed: 1 });
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

let flips = false;
// The scripted "model": it reads the case input out of the prompt and answers with the rule's
// quadrant, except that it answers prose for kc-0001's category and the wrong quadrant on every
// second call for kc-0002's. It is a test double for the wire protocol, not a model.
const script: ConverseScript = (call) => {
  const input = KraljicInput.parse(JSON.parse(/INPUT: (\{.*\})/.exec(call.userText)![1]!));
  if (input.categoryId === 'acme-cat-0001') return { text: 'It is probably Strategic.' };
  const right = classifyKraljic(input);
  const flip = input.categoryId === 'globex-cat-0002' && (flips = !flips);
  return { text: JSON.stringify({ ...right, quadrant: flip ? 'Leverage' : right.quadrant, confidence: 0.9, method: 'model' }) };
};

describe('model target (Bedrock Converse through the SDK)', () => {
  it(
    'runs repeats as separate calls, records usage and cost, turns prose into target errors, and caches answers',
    { timeout: 180_000 },
    async () => {
      const server = await startConverseServer(script);
      try {
        const suite = join(home, 'kraljic-model.yaml');
        writeFileAtomic(
          suite,
          stringify({
            name: 'kraljic-model',
            description: 'Kraljic classification by a model behind a prompt',
            target: {
              kind: 'model',
              endpoint: {
                provider: 'bedrock-converse',
                model: 'amazon.nova-lite-v1:0',
                endpoint: server.url,
                pricing: { inputPer1k: 0.06, outputPer1k: 0.24 },
              },
              system: 'Classify the category into a Kraljic quadrant. Answer JSON only.',
              prompt: 'INPUT: {{input}}',
            },
            dataset: 'kraljic-classification@v1',
            repeats: 2,
            scorers: [{ name: 'accuracy', type: 'exact', output: 'quadrant', expected: 'expected.quadrant' }],
          }),
        );
        const cache = new ResponseCache(join(home, 'cache', 'targets'));
        const opts = { suite, datasetsRoot: join(home, 'datasets'), signer, home, audit: null, cache, concurrency: 1 };
        const first = await runEval(opts);
        expect(first.report.target.id).toBe('model:bedrock-converse:amazon.nova-lite-v1:0');
        expect(server.requests).toHaveLength(40);
        const m = first.report.metrics.find((x) => x.name === 'accuracy')!;
        expect(m).toMatchObject({ n: 20, errors: 2, method: 'wilson-case-means' });
        // kc-0001 errs on both repeats (0), kc-0002 is right once of twice (0.5), the rest right: (18 + 0.5) / 20.
        expect(m.estimate).toBeCloseTo(18.5 / 20, 12);
        const errored = first.report.cases.filter((c) => c.error !== null);
        expect(errored.map((c) => c.id)).toEqual(['kc-0001', 'kc-0001']);
        expect(errored[0]!.error).toContain('malformed target output');
        const ok = first.report.cases.find((c) => c.id === 'kc-0003')!;
        expect(ok.usage.target).toEqual({ inputTokens: 120, outputTokens: 30, costUsd: (120 / 1000) * 0.06 + (30 / 1000) * 0.24 });
        expect(first.report.usage.targetTokens).toBe(38 * 150);

        const second = await runEval(opts);
        expect(server.requests).toHaveLength(40 + 2); // only the two prose answers (never cached) are asked again
        expect(second.report.metrics.find((x) => x.name === 'accuracy')!.estimate).toBe(m.estimate);
        // Cached answers spent nothing new: no tokens, no cost, counted as hits.
        expect(second.report.cases.find((c) => c.id === 'kc-0003')!.usage.target).toEqual({
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          cached: true,
        });
        expect(second.report.usage).toMatchObject({ targetTokens: 0, targetCacheHits: 38 });
      } finally {
        await server.close();
      }
    },
  );
});
