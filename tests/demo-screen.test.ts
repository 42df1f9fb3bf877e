import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoScreen, STEP_LINES } from '../cli/commands/demo-screen.js';

// The demo's longest step as it printed before each step had a budget (101 lines: release to prod,
// its approvals, the gate table with replay and canary, the promotions), captured from a real run.
// The full demo takes minutes, so `npm test` runs this step through the screen instead.
const STEP = readFileSync(join(import.meta.dirname, 'fixtures', 'demo-step-prod-release.txt'), 'utf8')
  .trimEnd()
  .split('\n');
const dir = mkdtempSync(join(tmpdir(), 'charter-demo-screen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function render(steps: string[][]): { screen: string[][]; log: string[] } {
  const log = join(dir, `${Math.random().toString(16).slice(2)}`, 'demo.log');
  const screen: string[][] = [];
  const out = new DemoScreen(log, (l) => screen.at(-1)!.push(l));
  for (const lines of steps) {
    out.end(); // what the step before held back for its end, into its own screenful
    screen.push([]);
    out.step(lines[0]!);
    for (const l of lines.slice(1)) out.line(l);
  }
  out.end();
  return { screen, log: readFileSync(log, 'utf8').trimEnd().split('\n') };
}

describe('the demo shows each step in a screenful, all of it in the log', () => {
  it('a 101-line step fits in 20 lines: how it started, how it ended, and where the rest is', () => {
    expect(STEP.length).toBe(101);
    const { screen, log } = render([STEP]);
    const shown = screen[0]!;
    expect(shown.length).toBeLessThanOrEqual(STEP_LINES);
    expect(STEP_LINES).toBe(20);
    expect(shown[0]).toBe(STEP[0]);
    // The outcome: the last lines of the step, as they were.
    expect(shown.slice(-5)).toEqual(STEP.slice(-5).map((l) => (l.length > 140 ? `${l.slice(0, 139)}…` : l)));
    const note = shown.find((l) => l.startsWith('  … '));
    expect(note).toMatch(/… \d+ more line\(s\) in .*demo\.log$/);
    expect(Number(/… (\d+) more/.exec(note!)![1]) + shown.length - 1).toBe(STEP.length);
    expect(shown.every((l) => l.length <= 140)).toBe(true);
    expect(log).toEqual(STEP);
  });

  it('every step gets its own budget; a short step is shown whole', () => {
    const short = ['== 1/2 short', '  $ charter audit sink', '    s3://charter-demo/audit/: Object Lock'];
    const { screen, log } = render([short, STEP]);
    expect(screen[0]).toEqual(short);
    expect(screen[1]!.length).toBeLessThanOrEqual(STEP_LINES);
    expect(screen[1]![0]).toBe(STEP[0]);
    expect(log).toEqual([...short, ...STEP]);
  });
});
