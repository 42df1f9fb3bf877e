import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { appendMany, exampleDecision, openHomeAuditLog, type DecisionRecord } from '../audit/index.js';
import { packageRoot } from '../common/index.js';
import { LocalKeySigner, loadPrivateKey } from '../signing/index.js';

/**
 * What the console tests share: a Charter home with a trail, the built `charter console`
 * started as a user starts it, tokens minted by `charter console token`, and headless Debian
 * Chromium driven by playwright-core (a browser that cannot start fails the test). Screenshots
 * go to test-results/console/.
 */

export const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
export const SCREENSHOTS = join(packageRoot, 'test-results', 'console');
export const CHROMIUM = '/usr/bin/chromium';

export function charter(home: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export interface ConsoleHome {
  root: string;
  home: string;
  /** The trusted keys copied outside the home, as an auditor pins them. */
  pinnedKeys: string;
  /** The records appended, in seq order. */
  records: DecisionRecord[];
  remove(): void;
}

/** A home (`charter init`) whose trail holds `count` decisions across acme, globex and initech, sealed. */
export async function consoleHome(count = 120): Promise<ConsoleHome> {
  const root = mkdtempSync(join(tmpdir(), 'charter-console-'));
  const home = join(root, 'home');
  const init = charter(home, ['init']);
  if (init.code !== 0) throw new Error(`charter init failed: ${init.err}`);
  const pinnedKeys = join(root, 'pinned-trusted-keys.json');
  copyFileSync(join(home, 'keys', 'trusted-keys.json'), pinnedKeys);
  const start = Date.parse('2026-11-30T09:00:00.000Z');
  const records = Array.from({ length: count }, (_, i) =>
    exampleDecision(i, {
      time: new Date(start + i * 60_000).toISOString(),
      ...(i % 5 === 0 ? { reasons: ['forbid base.tenant-isolation: the tenant_id argument names another tenant'] } : {}),
    }),
  );
  const log = await openHomeAuditLog({
    home,
    signer: new LocalKeySigner(loadPrivateKey(join(home, 'keys', 'audit.key.pem'))),
    origin: 'charter.local/audit',
    sealEveryRecords: 40,
  });
  await appendMany(log, records, { inFlight: 32 });
  await log.close();
  return { root, home, pinnedKeys, records, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export interface RunningConsoleProcess {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `charter console --port 0 --json [--trusted-keys K]`, as a user runs it; resolves with its URL. */
export async function startConsoleCli(home: string, extra: string[] = []): Promise<RunningConsoleProcess> {
  const child = spawn(process.execPath, [CLI, 'console', '--port', '0', '--json', ...extra], {
    env: { ...process.env, CHARTER_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let doc: { ok: boolean; url?: string };
      try {
        doc = JSON.parse(out) as typeof doc;
      } catch {
        return; // not the whole document yet
      }
      if (doc.ok && doc.url) resolve(doc.url);
      else reject(new Error(`charter console failed: ${out}`));
    });
    child.once('exit', (code) => reject(new Error(`charter console exited ${code}: ${err}`)));
  });
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A token from `charter console token`. */
export function token(home: string, name: string, role: string, tenant?: string): string {
  const r = charter(home, ['console', 'token', '--as', name, '--role', role, ...(tenant ? ['--tenant', tenant] : [])]);
  if (r.code !== 0) throw new Error(`charter console token failed: ${r.err}`);
  return r.out.trim();
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Headless Debian Chromium with a fresh profile; throws (the test fails) when it cannot start. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'charter-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    acceptDownloads: true,
    viewport: { width: 1360, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens `url`, pastes the token on the sign-in screen and signs in, as a user does. */
export async function signIn(page: Page, url: string, jwt: string): Promise<void> {
  await page.goto(url);
  await page.evaluate('sessionStorage.clear()');
  await page.reload();
  await page.getByLabel('Token').fill(jwt);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const AXE = readFileSync(join(packageRoot, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2 A/AA violations on the page as it is now (labels, names, contrast,
 * landmarks). axe is evaluated through the DevTools protocol, which the page's CSP does not
 * govern; the page itself loads nothing but the console's own files.
 */
export async function accessibilityViolations(page: Page): Promise<Array<{ id: string; help: string; nodes: string[] }>> {
  await page.evaluate(AXE);
  // A string, not a function: it runs in the page, whose globals (axe, document) this Node-typed file does not declare.
  return page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`);
}
