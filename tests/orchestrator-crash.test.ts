import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolValue } from '../agents/index.js';
import { contentPath } from '../common/index.js';
import { prepareRuntimeHome } from './runtime-home.js';

/**
 * kill -9 during node 4, then resume: the real CLI in real processes. The suppliers run in a
 * process of their own that survives the crash, so what they issued can be compared with what
 * the resumed negotiation recorded.
 */
const CLI = contentPath('dist', 'cli', 'main.js');
let home: string;
let suppliers: ChildProcess;
let suppliersUrl: string;

function charter(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'charter-crash-'));
  prepareRuntimeHome(home);
  // Slow suppliers (300 ms a quote) stretch the 5-round auction of node 4b over seconds.
  suppliers = spawn(process.execPath, [CLI, 'negotiations', 'suppliers', '--tenants', 'acme', '--latency', '300'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  suppliersUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: suppliers.stdout! }).once('line', resolve);
    suppliers.once('exit', (code) => reject(new Error(`supplier server exited ${code}`)));
  });
}, 180_000);

afterAll(() => {
  suppliers?.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crash during node 4 and resume', () => {
  it('resumes from the last checkpoint without a duplicated bid', async () => {
    const run = spawn(
      process.execPath,
      [CLI, 'negotiations', 'run', '--tenant', 'acme', '--sample', '1', '--suppliers-url', suppliersUrl],
      { env: { ...process.env, CHARTER_HOME: home }, stdio: 'ignore' },
    );
    const dbFile = join(home, 'orchestrator', 'negotiations.sqlite');
    // Kill once node 4 is running and has recorded bids of a round, before its checkpoint.
    const atCrash = await waitFor(() => {
      try {
        const db = new DatabaseSync(dbFile, { readOnly: true });
        try {
          const row = db.prepare("SELECT next_node AS node, round FROM negotiations WHERE pk = 'acme#acme-n002'").get() as
            { node: string; round: number } | undefined;
          const bids = (
            db.prepare("SELECT COUNT(*) AS n FROM bids WHERE tenant_id = 'acme' AND negotiation_id = 'acme-n002'").get() as { n: number }
          ).n;
          return row?.node === 'strategy' && row.round >= 2 && bids > 0 ? { ...row, bids } : undefined;
        } finally {
          db.close();
        }
      } catch {
        return undefined;
      }
    }, 120_000);
    run.kill('SIGKILL');
    await new Promise((r) => run.once('exit', r));

    const resumed = charter(['negotiations', 'resume', '--tenant', 'acme', '--id', 'acme-n002', '--suppliers-url', suppliersUrl, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const state = JSON.parse(resumed.stdout).negotiation;
    expect(state.status).toBe('AWARDED');
    expect(state.history.filter((h: { node: string }) => h.node === 'strategy')).toHaveLength(1);

    const db = new DatabaseSync(dbFile, { readOnly: true });
    const ledger = db
      .prepare(
        "SELECT supplier_id AS supplierId, round, bid FROM bids WHERE tenant_id = 'acme' AND negotiation_id = 'acme-n002' ORDER BY supplier_id, round",
      )
      .all() as Array<{ supplierId: string; round: number; bid: string }>;
    db.close();
    expect(ledger.length).toBeGreaterThan(atCrash.bids);
    const client = new Client({ name: 'crash-test', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(suppliersUrl)));
    const stats = toolValue((await client.callTool({ name: 'stats', arguments: { negotiationId: 'acme-n002' } })) as never) as {
      bids: Array<{ supplierId: string; round: number; priceCents: number }>;
    };
    await client.close();
    // One bid per supplier and round on both sides, and the same bids.
    const key = (b: { supplierId: string; round: number }) => `${b.supplierId}#${b.round}`;
    expect(new Set(ledger.map(key)).size).toBe(ledger.length);
    expect(stats.bids.map(key).sort()).toEqual(ledger.map(key).sort());
    const supplierPrice = new Map(stats.bids.map((b) => [key(b), b.priceCents]));
    for (const l of ledger) expect(JSON.parse(l.bid).priceCents).toBe(supplierPrice.get(key(l)));
  }, 240_000);
});
