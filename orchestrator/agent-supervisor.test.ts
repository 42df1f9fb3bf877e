import { describe, expect, test } from 'vitest';
import { contentPath } from '../common/index.js';
import { AgentSupervisor } from './agent-supervisor.js';

const crashing = (lifeMs: number) => () => [process.execPath, contentPath('orchestrator', 'fixtures', 'crashing-agent.mjs'), String(lifeMs)];

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('AgentSupervisor restarts', () => {
  test('a crash-looping agent is left down once its restarts within the window are used', async () => {
    const warnings: string[] = [];
    const sup = new AgentSupervisor({ agents: ['a'], argv: crashing(100), maxRestarts: 2, restartWindowMs: 60_000, warn: (m) => warnings.push(m) });
    try {
      await sup.start();
      await until(() => warnings.some((w) => w.includes('not restarting')), 20_000);
      expect(warnings.filter((w) => w.includes('; restarting (')).map((w) => w.replace(/.*restarting /, ''))).toEqual(['(1/2)', '(2/2)']);
      await expect(sup.endpoint('a')).rejects.toThrow(/agent process a is down: it exited with code 1 and was restarted 2 time\(s\) within 60 s/);
    } finally {
      await sup.close();
    }
  }, 30_000);

  test('restarts older than the window no longer count: an agent that crashes now and then keeps being restarted', async () => {
    const warnings: string[] = [];
    const sup = new AgentSupervisor({ agents: ['a'], argv: crashing(300), maxRestarts: 1, restartWindowMs: 200, warn: (m) => warnings.push(m) });
    try {
      await sup.start();
      await until(() => warnings.length >= 3, 20_000);
      expect(warnings.every((w) => w.endsWith('restarting (1/1)'))).toBe(true);
      await expect(sup.endpoint('a')).resolves.toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    } finally {
      await sup.close();
    }
  }, 30_000);
});
