import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/index.js';
import {
  CLI,
  accessibilityViolations,
  launchBrowser,
  signIn,
  startConsoleCli,
  token,
  type Browser,
  type RunningConsoleProcess,
} from './console-browser.js';

// The README's console screenshots, taken on the home `charter demo` leaves (not on a test
// home): `npm run console:screenshots` runs the demo into a fresh home (it takes minutes), or
// takes CHARTER_DEMO_HOME, a demo home you can spare (the script engages a kill switch in it and
// every page view is recorded in its trail). The trail's local S3 server is started again with
// the command the demo printed, the console is started as the README says, with the trusted keys
// pinned outside the home, and each page is opened as its user would, then saved to docs/console/.

const DOCS = join(packageRoot, 'docs', 'console');
let home: string;
let pinned: string;
let s3: { start: string } | null = null;
let running: RunningConsoleProcess;
let browser: Browser;

/** `charter --home HOME demo`, to its end (asynchronous: the demo spawns the CLI itself). */
function runDemo(into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--home', into, 'demo'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`charter demo exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** The command the demo printed to start its trail's S3 server again (null: the demo used the local directory sink). */
function s3StartCommand(demoHome: string): string | null {
  const log = readFileSync(join(demoHome, 'logs', 'demo.log'), 'utf8');
  const said = [...log.matchAll(/verify it again: (.+?) && CHARTER_HOME=/g)].pop();
  return said ? said[1]! : null;
}

function shell(command: string): void {
  const r = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command}: exit ${r.status}: ${r.stderr}`);
}

async function shot(name: string): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  await browser.page.screenshot({ path: join(DOCS, `${name}.png`), fullPage: true });
  expect(await accessibilityViolations(browser.page), name).toEqual([]);
}

const open = (path: string) => browser.page.goto(new URL(path, running.url).href);

beforeAll(async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'charter-console-screens-'));
  home = process.env.CHARTER_DEMO_HOME ?? join(scratch, 'demo');
  if (!process.env.CHARTER_DEMO_HOME) await runDemo(home);
  if (!existsSync(join(home, 'logs', 'demo.log'))) throw new Error(`${home} is not a home charter demo left (no logs/demo.log)`);
  const start = s3StartCommand(home);
  if (start) {
    shell(start);
    s3 = { start };
  }
  pinned = join(scratch, 'pinned-trusted-keys.json');
  copyFileSync(join(home, 'keys', 'trusted-keys.json'), pinned);
  running = await startConsoleCli(home, ['--trusted-keys', pinned]);
  browser = await launchBrowser();
}, 3_600_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  if (s3) shell(s3.start.replace(/ start$/, ' stop'));
});

describe('console screenshots on the demo home', () => {
  it('trail: filtered, then a record with its proof verified in the browser', async () => {
    const { page } = browser;
    await signIn(page, running.url, token(home, 'ada', 'auditor'));
    await open('/trail?tenant=globex&decision=deny');
    const banner = page.getByTestId('verify-banner');
    await expect.poll(() => banner.getAttribute('data-state'), { timeout: 120_000 }).not.toBe('checking');
    expect(`${await banner.getAttribute('data-state')}: ${await banner.textContent()}`).toMatch(/^verified: /);
    await page.getByTestId('page-info').waitFor();
    await shot('trail');
    await page.getByRole('table').locator('tbody tr').first().getByRole('link').click();
    await page.waitForURL('**/trail/records/**');
    await expect.poll(() => page.getByTestId('proof').getAttribute('data-state'), { timeout: 60_000 }).toBe('verified');
    await expect.poll(() => banner.getAttribute('data-state'), { timeout: 120_000 }).toBe('verified');
    await shot('trail-record');
  }, 300_000);

  it('approvals: the request alice approved in the demo', async () => {
    const { page } = browser;
    await signIn(page, running.url, token(home, 'alice', 'approver', 'initech'));
    await open('/approvals');
    await page.getByLabel('Decided approval requests').getByText('issue_purchase_order').first().waitFor();
    await shot('approvals');
  }, 120_000);

  it('releases: the environment x agent matrix and the prod award-communications cell', async () => {
    const { page } = browser;
    await signIn(page, running.url, token(home, 'sam', 'security'));
    await open('/releases?env=prod&agent=award-communications');
    await page.getByTestId('release-detail').getByLabel('Gates').waitFor();
    await shot('releases');
  }, 120_000);

  it('evals: the reports of the demo, and one report', async () => {
    const { page } = browser;
    await signIn(page, running.url, token(home, 'mo', 'ml'));
    await open('/evals');
    await page.getByRole('link', { name: 'award-communications', exact: true }).first().waitFor();
    await shot('evals');
    await page.getByRole('link', { name: 'award-communications', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Eval report: award-communications' }).waitFor();
    await page.getByRole('heading', { name: 'Judge calibration' }).waitFor();
    await shot('evals-report');
  }, 120_000);

  it('packs: the manifests, then what would change between two of them', async () => {
    const { page } = browser;
    await signIn(page, running.url, token(home, 'sam', 'security'));
    await open('/packs');
    await page.getByLabel('Manifests').getByRole('link').first().waitFor();
    await shot('packs');
    const res = await fetch(new URL('/api/packs/manifests', running.url), {
      headers: { authorization: `Bearer ${token(home, 'sam', 'security')}` },
    });
    const { manifests } = (await res.json()) as { manifests: Array<{ agent: string; digest: string }> };
    const digest = (agent: string) => manifests.find((m) => m.agent === agent)!.digest;
    await open(`/packs/diff?old=${digest('spot-bidding')}&new=${digest('leverage-auction')}`);
    await page.getByRole('heading', { name: 'What would change' }).waitFor({ timeout: 120_000 });
    await shot('packs-diff');
  }, 300_000);

  it('kill switches: alice engages globex from the console, signed with her key in the browser', async () => {
    const { page } = browser;
    await signIn(page, running.url, token(home, 'alice', 'security'));
    await open('/killswitches');
    await page.setInputFiles('#key-file', join(home, 'keys', 'alice.key.pem'));
    await page.getByText(/key [0-9a-f]{16}… loaded/).waitFor();
    await page.getByLabel('Tenant or agent').selectOption('tenant:globex');
    await page.getByLabel('Why (recorded in the trail)').fill('spot ceiling above the tenant limit (demo misconfiguration)');
    await page.getByRole('button', { name: 'Engage' }).click();
    await page.getByText(/Kill switch of tenant globex engaged/).waitFor({ timeout: 60_000 });
    await page.getByLabel('Engaged kill switches').getByText('tenant globex').waitFor();
    await shot('killswitches');
  }, 180_000);
});
