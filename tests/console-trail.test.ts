import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEvidenceBundle } from '../audit/index.js';
import { loadTrustedKeys } from '../signing/index.js';
import {
  accessibilityViolations,
  consoleHome,
  launchBrowser,
  screenshot,
  signIn,
  startConsoleCli,
  token,
  type Browser,
  type ConsoleHome,
  type RunningConsoleProcess,
} from './console-browser.js';

// The auditor's journeys in a real browser (headless Debian Chromium through playwright-core):
// filter the trail, open a record, see its inclusion proof checked in the browser, export a
// bundle; a tenant-scoped auditor cannot reach another tenant's record by URL. Each journey
// saves a screenshot under test-results/console/ and runs axe-core on what it shows.
let h: ConsoleHome;
let running: RunningConsoleProcess;
let browser: Browser;

beforeAll(async () => {
  h = await consoleHome(120);
  running = await startConsoleCli(h.home, ['--trusted-keys', h.pinnedKeys]);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await running?.stop();
  h?.remove();
});

describe('auditor journeys', () => {
  it('an auditor filters, opens a record, sees its proof verified in the browser, exports a bundle', { timeout: 120_000 }, async () => {
    const { page } = browser;
    await signIn(page, running.url, token(h.home, 'ada', 'auditor', 'acme'));
    expect(new URL(page.url()).pathname).toBe('/trail');
    await expect.poll(() => page.getByTestId('verify-banner').getAttribute('data-state'), { timeout: 30_000 }).toBe('verified');

    await page.getByLabel('Decision').fill('deny');
    await page.getByLabel('Tool').fill('get_category_spend');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/decision=deny/);
    const rows = page.getByRole('table').locator('tbody tr');
    await page.getByTestId('page-info').waitFor();
    const expected = h.records.filter((r) => r.tenantId === 'acme' && r.decision === 'deny' && r.tool === 'get_category_spend');
    expect(await rows.count()).toBe(expected.length);
    await screenshot(page, 'trail-filtered');
    expect(await accessibilityViolations(page)).toEqual([]);

    const newest = expected[expected.length - 1]!;
    await rows.first().getByRole('link').click();
    await page.waitForURL(`**/trail/records/${newest.id}`);
    await expect.poll(() => page.getByTestId('proof').getAttribute('data-state'), { timeout: 30_000 }).toBe('verified');
    await expect.poll(() => page.getByText('base.tenant-isolation').count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: newest.manifestDigest! }).getAttribute('href')).toBe(
      `/packs/manifests/${newest.manifestDigest}`,
    );
    await screenshot(page, 'trail-record');
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.goBack();
    await page.waitForURL(/decision=deny/);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export evidence bundle' }).click();
    const file = await (await download).path();
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { filter: { tenant: string } };
    expect(bundle.filter.tenant).toBe('acme');
    const report = verifyEvidenceBundle(bundle, loadTrustedKeys(h.pinnedKeys));
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    await page.getByText(/Evidence bundle for acme downloaded/).waitFor();
    await screenshot(page, 'trail-export');
  });

  it('the browser check fails when the record it is shown differs from the one sealed', { timeout: 120_000 }, async () => {
    const { page } = browser;
    await signIn(page, running.url, token(h.home, 'sam', 'auditor'));
    const target = h.records.find((r) => r.decision === 'deny')!;
    // a server that shows a sealed deny as an allow: the proof it sends no longer fits the record
    await page.route(`**/api/trail/records/${target.id}`, async (route) => {
      const res = await route.fetch();
      const view = (await res.json()) as { record: { decision: string } };
      view.record.decision = 'allow';
      await route.fulfill({ response: res, json: view });
    });
    await page.goto(new URL(`/trail/records/${target.id}`, running.url).href);
    await expect.poll(() => page.getByTestId('proof').getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    expect(await page.getByTestId('proof').textContent()).toMatch(/record hash/);
    await page.unroute(`**/api/trail/records/${target.id}`);
  });

  it('an acme auditor cannot reach a globex record by URL', { timeout: 120_000 }, async () => {
    const { page } = browser;
    await signIn(page, running.url, token(h.home, 'ada', 'auditor', 'acme'));
    const globex = h.records.find((r) => r.tenantId === 'globex')!;
    await page.goto(new URL(`/trail/records/${globex.id}`, running.url).href);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe(`no record ${globex.id}`);
    expect(await page.content()).not.toMatch(/globex/);
    await screenshot(page, 'trail-foreign-record');
  });
});

describe('a tampered trail', () => {
  it('turns the banner red and names the segment', { timeout: 180_000 }, async () => {
    const t = await consoleHome(120);
    const segments = join(t.home, 'audit', 'segments');
    const day = readdirSync(segments)[0]!;
    const name = readdirSync(join(segments, day)).sort()[1]!;
    const file = join(segments, day, name);
    const bytes = readFileSync(file);
    bytes[bytes.length - 12]! ^= 0xff; // inside the gzip trailer: the segment's SHA-256 no longer matches its checkpoint
    writeFileSync(file, bytes);
    const tampered = await startConsoleCli(t.home, ['--trusted-keys', t.pinnedKeys]);
    try {
      const { page } = browser;
      await signIn(page, tampered.url, token(t.home, 'sam', 'auditor'));
      const banner = page.getByTestId('verify-banner');
      await expect.poll(() => banner.getAttribute('data-state'), { timeout: 60_000 }).toBe('failed');
      expect(await banner.textContent()).toContain(`segments/${day}/${name}`);
      await screenshot(page, 'trail-tampered');
      expect(await accessibilityViolations(page)).toEqual([]);
    } finally {
      await tampered.stop();
      t.remove();
    }
  });
});
