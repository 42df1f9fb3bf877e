// Benchmark: the console's Trail page API over a trail of 1,000,000 records (CONSOLE_BENCH_RECORDS):
// the first page (50 rows, newest first) with no filter, by tenant, by tenant and decision, and a
// page deep in the trail by its keyset cursor, each as the browser asks it: over HTTP, with the
// bearer token verified, the tenant guard, the records read from their sealed segments and checked,
// and the page view recorded in the trail. Beside each: the index's own SQL for the same page
// (the rows it locates, nothing read). Aim: first page under 300 ms.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditIndex, LocalDirectorySink, openAuditLog, rebuildIndex, type AuditQuery } from '../audit/index.js';
import { AccessLog, localConsoleIdentity, mintConsoleToken, startConsole, type TrailPage } from '../console/index.js';
import { LocalKeySigner, trustedKeyFromPublicKey } from '../signing/index.js';
import { buildSealedLog } from './fixtures/audit-log.js';
import { emit, figure, inRounds } from './harness.js';

const N = Number(process.env.CONSOLE_BENCH_RECORDS ?? 1_000_000);
const PAGE = 50;
const START = Date.parse('2026-10-01T00:00:00.000Z');
const SPAN_MS = 30 * 86_400_000;
const root = mkdtempSync(join(tmpdir(), 'bench-console-trail-'));

try {
  const home = join(root, 'home');
  const dir = join(home, 'audit');
  mkdirSync(dir, { recursive: true });
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const trustedKeys = { keys: [trustedKeyFromPublicKey(signer.publicKey, 'bench', ['audit-checkpoint'])] };
  const t0 = performance.now();
  await buildSealedLog(dir, signer, { records: N, segment: 10_000, start: START, spanMs: SPAN_MS });
  const buildSeconds = (performance.now() - t0) / 1000;
  await rebuildIndex({ dir });

  const sink = new LocalDirectorySink(dir);
  const access = new AccessLog(
    () => openAuditLog({ dir, sink, signer, origin: 'bench.local/audit' }),
    (err) => process.stderr.write(`bench: ${String(err)}\n`),
  );
  const running = await startConsole({
    context: { home, audit: { dir, sink }, trust: { trusted: true, file: '(bench key)', keys: trustedKeys }, access },
    identity: await localConsoleIdentity(home),
  });
  const token = await mintConsoleToken(home, { name: 'bench', role: 'auditor' });
  const page = async (query: string): Promise<TrailPage> => {
    const res = await fetch(new URL(`/api/trail${query}`, running.url), { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET /api/trail${query}: ${res.status} ${await res.text()}`);
    return (await res.json()) as TrailPage;
  };

  // a cursor in the middle of the trail: the last row of a page that starts there
  const middle = new Date(START + SPAN_MS / 2).toISOString();
  const deep = (await page(`?to=${middle}`)).next!;
  const cases: Record<string, { query: string; filter: AuditQuery }> = {
    firstPage: { query: '', filter: {} },
    tenant: { query: '?tenant=acme', filter: { tenant: 'acme' } },
    tenantDecision: { query: '?tenant=acme&decision=deny', filter: { tenant: 'acme', decision: 'deny' } },
    deepPage: {
      query: `?to=${middle}&cursor=${encodeURIComponent(deep)}`,
      filter: { to: middle, after: { seq: Number(deep.split('@')[0]), time: deep.split('@')[1]! } },
    },
  };
  const index = AuditIndex.open(join(dir, 'index.sqlite'));
  const pages: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(cases)) {
    let rows = 0;
    const sql = await inRounds(() => {
      const s = performance.now();
      index.query({ ...c.filter, order: 'desc', limit: PAGE + 1 });
      return performance.now() - s;
    });
    const ms = await inRounds(async () => {
      const s = performance.now();
      rows = (await page(c.query)).rows.length;
      return performance.now() - s;
    });
    pages[name] = {
      rows,
      ...figure(ms, { unit: 'ms', lowerIsBetter: true, limit: { what: "the index's SQL for the page alone", sampled: sql }, aim: 300 }),
    };
  }
  index.close();
  await running.close();
  emit('console-trail', { records: N, buildSeconds: Number(buildSeconds.toFixed(1)), pageRows: PAGE, pages });
} finally {
  rmSync(root, { recursive: true, force: true });
}
