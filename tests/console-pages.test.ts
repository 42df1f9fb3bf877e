import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLog, type AuditLog } from '../audit/index.js';
import { compiledManifestFile, writeFileAtomic } from '../common/index.js';
import { loadDataset } from '../datasets/index.js';
import { calibrateJudge, Judge, JudgeConfig, runEval, saveCalibration, type Calibration } from '../evals/index.js';
import { LocalKeySigner, loadPrivateKey } from '../signing/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition, type ProcurementStack } from '../orchestrator/index.js';
import { envelopeText } from '../policy-packs/index.js';
import { actSigner, importApproverKey, type SigningAsk } from '../console/web/src/signing.js';
import type { ApprovalView } from '../console/pages-types.js';
import { shownRequest } from '../console/web/src/statement.js';
import {
  accessibilityViolations,
  charter,
  launchBrowser,
  screenshot,
  signIn,
  startConsoleCli,
  token,
  type Browser,
  type RunningConsoleProcess,
} from './console-browser.js';
import { procurementHome, type ProcurementHome } from './procurement-home.js';
import { startOpenAiServer } from './servers/openai.js';

// The approvals, kill-switch, releases, evals and packs pages: the approver's journey in real
// Chromium (an initech award waits for a person; alice approves it in the browser with her own
// key; the negotiation proceeds and the PO is issued), each page loaded and checked by axe-core,
// and the API's authorization over plain HTTP.

let root: string;
let home: string;
let ph: ProcurementHome;
let stack: ProcurementStack;
let audit: AuditLog;
let stopSuppliers: () => Promise<void>;
let running: RunningConsoleProcess;
let browser: Browser;
let calibration: Calibration;
let judgedReportId: string;

/**
 * A judge calibrated on the human-labelled set and an eval run graded by it, signed into the
 * home: the judge is a scripted local chat-completions server (not a model) that answers the
 * human label except on the first two letters humans failed, which it passes.
 */
async function judgedReport(home: string): Promise<void> {
  const labelled = loadDataset('judge-calibration@v1').cases.map((c) => ({
    text: (c.input as { output: string }).output,
    label: (c.expected as { label: string }).label,
  }));
  const overruled = new Set(
    labelled
      .filter((l) => l.label === 'fail')
      .slice(0, 2)
      .map((l) => l.text),
  );
  const server = await startOpenAiServer((call) => {
    const hit = labelled.find((l) => call.userText.includes(l.text));
    const pass = hit ? hit.label === 'pass' || overruled.has(hit.text) : call.userText.includes('Dear ');
    return { text: JSON.stringify({ pass, score: pass ? 1 : 0, reason: 'scripted' }) };
  });
  try {
    const judge = new Judge(JudgeConfig.parse({ provider: 'openai', model: 'scripted-judge', baseUrl: `${server.url}/v1` }), null);
    const signer = new LocalKeySigner(loadPrivateKey(join(home, 'keys', 'eval-report.key.pem')));
    calibration = await calibrateJudge({ judge });
    await saveCalibration(calibration, signer, home);
    const trustedKeysFile = join(home, 'keys', 'trusted-keys.json');
    judgedReportId = (await runEval({ suite: 'award-communications', judge, signer, home, trustedKeysFile, audit: null })).report.id;
  } finally {
    await server.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'charter-console-pages-'));
  home = join(root, 'home');
  ph = await procurementHome(home);
  // The home the console serves: its manifests where the CLI compiles them, then the rest of a home (charter init keeps what exists).
  for (const m of ph.manifests) writeFileAtomic(compiledManifestFile(home, m.manifest.agent.name), envelopeText(m.envelope));
  const init = charter(home, ['init']);
  if (init.code !== 0) throw new Error(`charter init: ${init.err}`);
  await judgedReport(home);
  // The negotiation runs in this process over the home's approvals folder; its trail is its own (the console writes the home's).
  const world = referenceWorld({ tenants: ['initech'], spendThresholdCents: { initech: 10_000 } });
  const suppliers = await world.network.serve();
  stopSuppliers = () => suppliers.close();
  audit = await openAuditLog({ dir: join(root, 'run-audit'), signer: ph.auditSigner, origin: 'test/console-pages' });
  stack = await openProcurementStack(ph.stackOptions(home, world, suppliers.url, audit));
  running = await startConsoleCli(home);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  await stack?.close();
  await audit?.close();
  await stopSuppliers?.();
  rmSync(root, { recursive: true, force: true });
});

describe('the approver journey', () => {
  it('an approver of initech approves a pending award in the browser, and the waiting negotiation proceeds', async () => {
    const waiting = await stack.orchestrator.negotiate('initech', sampleRequisition('initech', 0));
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    const id = waiting.approval!.approvalId!;
    const { page } = browser;
    await signIn(page, running.url, token(home, 'alice', 'approver', 'initech'));
    await page.goto(new URL('/approvals', running.url).href);
    const row = page.getByTestId(`request-${id}`);
    await expect(row.textContent()).resolves.toMatch(/initech.*award-communications.*issue_purchase_order/s);
    await expect(row.textContent()).resolves.toMatch(/\d+ h \d+ min/);
    // The key file charter keys generate wrote, loaded into the page (it stays there).
    await page.setInputFiles('#key-file', ph.approverKeyFile);
    await page.getByText(/key [0-9a-f]{16}… loaded/).waitFor();
    await page.getByRole('button', { name: `Approve issue_purchase_order for initech (request ${id})` }).click();
    await page.getByText(/the request is now approved \(1\/1 approvals\)/).waitFor();
    await screenshot(page, 'approvals-journey');
    const done = await stack.orchestrator.run('initech', waiting.negotiationId);
    expect(done.status, done.reason ?? '').toBe('AWARDED');
    expect(done.approval).toMatchObject({ mode: 'human', status: 'approved' });
    expect(stack.store.documentsOf('initech', waiting.negotiationId, 'purchase-order')).toHaveLength(1);
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 180_000);
});

async function api(path: string, jwt: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, running.url), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${jwt}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

describe('API authorization (no browser)', () => {
  it('write actions need their role: approve (approver), engage (security), release (security or approver); reads need theirs', async () => {
    const auditor = token(home, 'ada', 'auditor');
    const ml = token(home, 'mo', 'ml');
    const approver = token(home, 'alice', 'approver', 'initech');
    const body = { decision: 'approve', keyId: 'x' };
    expect((await api('/api/approvals/00000000-0000-7000-8000-000000000000/act', auditor, body)).status).toBe(403);
    expect((await api('/api/approvals', ml)).status).toBe(403);
    expect((await api('/api/killswitches/engage', approver, { tenant: 'initech', reason: 'x', keyId: 'x' })).status).toBe(403);
    expect((await api('/api/killswitches/release', auditor, { tenant: 'initech', reason: 'x', keyId: 'x' })).status).toBe(403);
    for (const path of ['/api/releases', '/api/evals', '/api/packs/manifests']) {
      expect((await api(path, approver)).status, path).toBe(403);
      expect((await api(path, ml)).status, path).toBe(200);
    }
  }, 60_000);

  it("a tenant-scoped approver never sees another tenant's request, and acting on it by id is the same 404 as an id that does not exist", async () => {
    const waiting = await stack.orchestrator.negotiate('initech', sampleRequisition('initech', 1));
    const id = waiting.approval!.approvalId!;
    const globex = token(home, 'alice', 'approver', 'globex');
    const listed = (await api('/api/approvals', globex)).body as { requests: Array<{ id: string; tenant: string }> };
    expect(listed.requests.filter((r) => r.tenant !== 'globex')).toEqual([]);
    const key = await importApproverKey(readFileSync(ph.approverKeyFile, 'utf8'));
    const theirs = await api(`/api/approvals/${id}/act`, globex, { decision: 'approve', keyId: key.keyId });
    const none = await api('/api/approvals/01a23700-0000-7000-8000-000000000000/act', globex, { decision: 'approve', keyId: key.keyId });
    expect(theirs.status).toBe(404);
    expect(none.status).toBe(404);
    expect(JSON.stringify(theirs.body).replace(id, 'ID')).toBe(
      JSON.stringify(none.body).replace('01a23700-0000-7000-8000-000000000000', 'ID'),
    );
    // Signed in as bob, alice's key is refused (the signer is the key's name); nothing is signed.
    const bob = token(home, 'bob', 'approver', 'initech');
    const posing = await api(`/api/approvals/${id}/act`, bob, { decision: 'approve', keyId: key.keyId });
    expect(posing.status).toBe(409);
    // alice in her tenant: the steps the browser signs, driven over HTTP with the page's own signing module.
    const initech = token(home, 'alice', 'approver', 'initech');
    // The request as the approvals page shows it: what the statements signed must say.
    const shown = ((await api('/api/approvals', initech)).body as { requests: ApprovalView[] }).requests.find((r) => r.id === id)!;
    const sign = actSigner(key, { act: 'approval', decision: 'approve', reason: '', signer: 'alice', request: shownRequest(shown) });
    let step = (await api(`/api/approvals/${id}/act`, initech, { decision: 'approve', keyId: key.keyId })).body as {
      session: string;
      ask?: SigningAsk;
      done?: { status: string };
    };
    while (step.ask) step = (await api(`/api/signing/${step.session}`, initech, { value: await sign(step.ask) })).body as typeof step;
    expect(step.done?.status).toBe('approved');
  }, 90_000);
});

describe('pages', () => {
  const pages: Array<{ path: string; role: string; refused: string; shows: string; shot: string }> = [
    { path: '/approvals', role: 'approver', refused: 'ml', shows: 'Decided approval requests', shot: 'approvals' },
    { path: '/killswitches', role: 'security', refused: 'ml', shows: 'Kill switch history', shot: 'killswitches' },
    { path: '/releases', role: 'security', refused: 'approver', shows: 'Releases by environment and agent', shot: 'releases' },
    { path: '/evals', role: 'ml', refused: 'approver', shows: 'Eval reports', shot: 'evals' },
    { path: '/packs', role: 'security', refused: 'approver', shows: 'Compare two manifests', shot: 'packs' },
  ];
  for (const p of pages)
    it(`${p.path} loads for ${p.role}, is axe-clean, and refuses another role`, async () => {
      const { page } = browser;
      await signIn(page, running.url, token(home, 'sam', p.role));
      await page.goto(new URL(p.path, running.url).href);
      await page.getByLabel(p.shows).waitFor();
      await screenshot(page, p.shot);
      expect(await accessibilityViolations(page)).toEqual([]);
      await signIn(page, running.url, token(home, 'ada', p.refused));
      await page.goto(new URL(p.path, running.url).href);
      await page.getByText(/page is for the .* role; you signed in as/).waitFor();
    }, 60_000);

  it("an eval report shows the judge's calibration: kappa and the confusion matrix of human x judge labels", async () => {
    expect(calibration.confusion).toEqual({
      labels: ['fail', 'pass'],
      counts: [
        [10, 2],
        [0, 12],
      ],
    });
    const { page } = browser;
    await signIn(page, running.url, token(home, 'mo', 'ml'));
    await page.goto(new URL('/evals', running.url).href);
    await page.getByRole('link', { name: 'award-communications' }).first().click();
    await page.waitForURL(`**/evals/reports/${judgedReportId}`);
    // Radix puts the table's label on its wrapper (as for every table of the console).
    const matrix = page.getByLabel('Judge calibration confusion matrix');
    await matrix.waitFor();
    const cell = (human: string, judge: string) => matrix.getByTestId(`confusion-${human}-${judge}`).textContent();
    await expect(cell('fail', 'fail')).resolves.toBe('10 (agree)');
    await expect(cell('fail', 'pass')).resolves.toBe('2');
    await expect(cell('pass', 'fail')).resolves.toBe('0');
    await expect(cell('pass', 'pass')).resolves.toBe('12 (agree)');
    await expect(matrix.getByRole('rowheader', { name: 'human: fail' }).count()).resolves.toBe(1);
    await expect(matrix.getByRole('columnheader', { name: 'judge: pass' }).count()).resolves.toBe(1);
    await expect(page.getByText(/Cohen's kappa 0\.833 .* over 24 labelled cases/).count()).resolves.toBe(1);
    await screenshot(page, 'evals-report');
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it('a manifest has a stable URL, and two manifests compare with decision flips first', async () => {
    const [a, b] = ph.manifests.filter((m) => m.manifest.agent.name === 'spot-bidding' || m.manifest.agent.name === 'leverage-auction');
    const { page } = browser;
    await signIn(page, running.url, token(home, 'sam', 'security'));
    await page.goto(new URL(`/packs/manifests/${a!.digest}`, running.url).href);
    await page.getByRole('heading', { name: `Manifest of ${a!.manifest.agent.name}` }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.goto(new URL(`/packs/diff?old=${a!.digest}&new=${b!.digest}`, running.url).href);
    await page.getByRole('heading', { name: 'What would change' }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'packs-diff');
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 120_000);
});
