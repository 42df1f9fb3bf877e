import { describe, expect, test } from 'vitest';
import { contentPath } from '../common/index.js';
import { AgentSupervisor } from './agent-supervisor.js';

const argv = () => [process.execPath, contentPath('orchestrator', 'fixtures', 'ping-agent.mjs')];

/** Kills the agent's current process once it is ready, and waits until the supervisor has reacted (a new process, or the agent left down). */
async function crash(sup: AgentSupervisor): Promise<void> {
  await sup.endpoint('a');
  const pid = sup.pid('a')!;
  process.kill(pid, 'SIGKILL');
  const end = Date.now() + 20_000;
  while (
    sup.pid('a') === pid &&
    !(await sup.endpoint('a').then(
      () => false,
      () => true,
    ))
  ) {
    if (Date.now() > end) throw new Error('the supervisor did not react to the crash');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('AgentSupervisor restarts', () => {
  test('a crash-looping agent is left down once its restarts within the window are used', async () => {
    const warnings: string[] = [];
    const sup = new AgentSupervisor({ agents: ['a'], argv, maxRestarts: 2, restartWindowMs: 60_000, warn: (m) => warnings.push(m) });
    try {
      await sup.start();
      for (let i = 0; i < 3; i++) await crash(sup);
      expect(warnings.map((w) => w.replace(/.*; /, ''))).toEqual([
        'restarting (1/2)',
        'restarting (2/2)',
        'not restarting (2 restarts within 60 s used)',
      ]);
      await expect(sup.endpoint('a')).rejects.toThrow(
        /agent process a is down: it was killed by SIGKILL and was restarted 2 time\(s\) within 60 s/,
      );
    } finally {
      await sup.close();
    }
  }, 60_000);

  test('restarts older than the window no longer count: an agent that crashes now and then keeps being restarted', async () => {
    const warnings: string[] = [];
    const sup = new AgentSupervisor({ agents: ['a'], argv, maxRestarts: 1, restartWindowMs: 200, warn: (m) => warnings.push(m) });
    try {
      await sup.start();
      for (let i = 0; i < 3; i++) {
        await crash(sup);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(warnings.map((w) => w.replace(/.*; /, ''))).toEqual(['restarting (1/1)', 'restarting (1/1)', 'restarting (1/1)']);
      await expect(sup.endpoint('a')).resolves.toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    } finally {
      await sup.close();
    }
  }, 60_000);
});
