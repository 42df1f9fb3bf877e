import { spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';
import { createStoreTables, sampleRequisition, type NegotiationState } from '../orchestrator/index.js';
import { LOCAL_CREDENTIALS, startDynalite, type LocalDynamo } from './dynalite-server.js';
import { prepareRuntimeHome } from './runtime-home.js';
import { startServe, waitFor, type ServeProcess } from './serve-process.js';

/**
 * Two `charter negotiations serve` processes, each on its own home (two machines), sharing one
 * DynamoDB store (dynalite on a loopback port, started here: a test that cannot start it fails):
 * overlapping submissions never admit more than the tenant's slots, every bid and purchase
 * order is recorded once, and a runner stopped past its lease mid-negotiation, woken and then killed
 * with SIGKILL has its negotiation finished by the other, to the outcome an uninterrupted run reaches.
 */
const CLI = contentPath('dist', 'cli', 'main.js');
const TABLES = 'charter-test';
const TENANTS = `defaults:
  admission: { reservedSlots: 1, maxSlots: 2, retryAfterSeconds: 1 }
tenants:
  acme:
    config: { limits: { spendThresholdCents: 100000000 } }
`;

let dynamo: LocalDynamo;
let doc: DynamoDBDocumentClient;
const homes: string[] = [];
const procs = new Set<ChildProcess>();

beforeAll(async () => {
  dynamo = await startDynalite();
  await createStoreTables(dynamo.client(), TABLES);
  doc = DynamoDBDocumentClient.from(dynamo.client());
  const a = mkdtempSync(join(tmpdir(), 'charter-dynamo-a-'));
  prepareRuntimeHome(a);
  writeFileSync(join(a, 'tenants.yaml'), TENANTS);
  const b = mkdtempSync(join(tmpdir(), 'charter-dynamo-b-'));
  const reference = mkdtempSync(join(tmpdir(), 'charter-dynamo-ref-'));
  cpSync(a, b, { recursive: true });
  cpSync(a, reference, { recursive: true });
  // The two runners choose the store in their config.yaml; the reference stays on SQLite.
  const store = `store:\n  kind: dynamodb\n  tables: ${TABLES}\n  endpoint: ${dynamo.endpoint}\n  region: us-east-1\n`;
  for (const h of [a, b]) appendFileSync(join(h, 'config.yaml'), store);
  homes.push(a, b, reference);
}, 240_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await dynamo?.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const ENV = { AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey };

type Runner = ServeProcess;

async function serve(home: string): Promise<Runner> {
  const r = await startServe(home, ['--tenants', 'acme', '--latency', '250', '--lease-seconds', '3', '--poll-seconds', '0.5'], ENV);
  procs.add(r.proc);
  return r;
}

function submit(r: Runner, sample: number): Promise<Response> {
  return fetch(`${r.url}/v1/tenants/acme/negotiations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleRequisition('acme', sample)),
  });
}

async function scan(table: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new ScanCommand({ TableName: `${TABLES}-${table}`, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...((res.Items ?? []) as Array<Record<string, unknown>>));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

async function negotiations(): Promise<NegotiationState[]> {
  return (await scan('negotiations')).filter((i) => i.sk === 'negotiation').map((i) => JSON.parse(i.state as string) as NegotiationState);
}

describe('two runners on one DynamoDB store', () => {
  it('never admit past the slots, record each bid and award once, and one finishes what the other stalled and was killed in', async () => {
    const [a, b] = await Promise.all([serve(homes[0]!), serve(homes[1]!)]);
    // Watch the table the whole time: ACTIVE negotiations of acme never exceed its two slots.
    let maxActive = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const active = (await negotiations()).filter((s) => s.status === 'ACTIVE').length;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const t0 = Date.now();
    // Every sample to both runners at once.
    const samples = [0, 1, 2, 3];
    const answers = await Promise.all(samples.flatMap((i) => [submit(a, i), submit(b, i)]));
    const codes = answers.map((r) => r.status);
    expect(
      codes.every((c) => c === 202 || c === 429),
      String(codes),
    ).toBe(true);
    const admitted = (await negotiations()).filter((s) => s.status !== 'DRAFT');
    expect(admitted).toHaveLength(2);

    // Kill the runner that holds a lease on a negotiation in mid-run (past classification).
    const leased = await waitFor(
      async () => {
        const leases = (await scan('negotiations')).filter((i) => String(i.sk).startsWith('lease#'));
        const states = await negotiations();
        for (const l of leases) {
          const s = states.find((x) => x.negotiationId === l.negotiation_id);
          if (s?.status === 'ACTIVE' && ['strategy', 'evaluate'].includes(s.nextNode ?? '')) return l;
        }
        return undefined;
      },
      60_000,
      'a negotiation in mid-run',
    );
    const victim = [a, b].find((r) => String(leased.owner).includes(`:${r.proc.pid}:`))!;
    const survivor = victim === a ? b : a;
    const killedId = leased.negotiation_id as string;
    // First it stalls past its 3 s lease (SIGSTOP: a long GC pause, a starved container): the
    // survivor takes its negotiations over; woken, its late checkpoints are refused and it may
    // only go on with what it can still lease. Then it dies (SIGKILL) for good.
    victim.proc.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5_000));
    victim.proc.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 1_500));
    await new Promise<void>((resolve) => {
      victim.proc.once('exit', () => resolve());
      victim.proc.kill('SIGKILL');
    });
    procs.delete(victim.proc);
    let lastSeen = '';
    // On a timeout: what each runner logged, and the stored states, to tell a slow machine from a stuck negotiation.
    const said = () =>
      `killed runner (${killedId}):\n${victim.stderr()}\nsurvivor:\n${survivor.stderr()}\nstore at the last look (at ${Date.now()}): ${lastSeen}`;

    // The survivor finishes both (its own, and the dead runner's once its lease expired), then the refused ones on retry.
    const finished = (id: string) =>
      waitFor(
        async () => {
          const items = await scan('negotiations');
          const states = items.filter((i) => i.sk === 'negotiation').map((i) => JSON.parse(i.state as string) as NegotiationState);
          lastSeen = JSON.stringify([
            ...states.map((x) => [x.negotiationId, x.status, x.nextNode]),
            ...items.filter((i) => String(i.sk).startsWith('lease#')).map((i) => [i.sk, i.owner, i.expires_at]),
          ]);
          const s = states.find((x) => x.negotiationId === id);
          return s && s.nextNode === null ? s : undefined;
        },
        90_000,
        `${id} to finish`,
        said,
      );
    for (const s of admitted) expect((await finished(s.negotiationId)).status).toBe('AWARDED');
    expect(survivor.stderr()).toMatch(new RegExp(`acme/${killedId}: took over from .* \\(lease expired\\), resuming`));
    for (const i of samples) {
      const id = sampleRequisition('acme', i).negotiationId;
      if (admitted.some((s) => s.negotiationId === id)) continue;
      await waitFor(async () => ((await submit(survivor, i)).status === 202 ? true : undefined), 60_000, `${id} admitted`);
    }
    for (const i of samples) expect((await finished(sampleRequisition('acme', i).negotiationId)).status).toBe('AWARDED');
    const elapsedMs = Date.now() - t0;
    watching = false;
    await watcher;
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive, 'ACTIVE negotiations of acme at once').toBeLessThanOrEqual(2);

    // Exactly once: one bid per supplier and round, one purchase order per negotiation, and the
    // order the final state names is the one recorded.
    const records = await scan('idempotency');
    const final = await negotiations();
    for (const s of final) {
      const pk = `acme#${s.negotiationId}`;
      const bids = records.filter((r) => r.pk === pk && String(r.sk).startsWith('bid#'));
      const ids = bids.map((r) => r.bid_id as string);
      expect(new Set(ids).size, `${s.negotiationId} bids`).toBe(ids.length);
      expect(bids.every((r) => typeof r.expiresAt === 'number')).toBe(true);
      const orders = records.filter((r) => r.pk === pk && r.kind === 'purchase-order');
      expect(orders, `${s.negotiationId} purchase orders`).toHaveLength(1);
      expect(s.award!.output.purchaseOrders).toHaveLength(1);
      expect(s.award!.output.purchaseOrders[0]!.purchaseOrderId).toContain(`po-${orders[0]!.id as string}`);
    }

    // The killed negotiation ends as an uninterrupted run (SQLite, one process) of the same requisition does.
    const sample = samples.find((i) => sampleRequisition('acme', i).negotiationId === killedId)!;
    const ref = spawnSync(process.execPath, [CLI, 'negotiations', 'run', '--tenant', 'acme', '--sample', String(sample), '--json'], {
      env: { ...process.env, CHARTER_HOME: homes[2]! },
      encoding: 'utf8',
    });
    expect(ref.status, ref.stderr).toBe(0);
    const reference = (JSON.parse(ref.stdout) as { negotiation: NegotiationState }).negotiation;
    const resumed = final.find((s) => s.negotiationId === killedId)!;
    expect(resumed.status).toBe(reference.status);
    expect(resumed.classification?.output.quadrant).toBe(reference.classification?.output.quadrant);
    expect(resumed.evaluation?.output.award).toEqual(reference.evaluation?.output.award);
    expect(resumed.strategy?.output.bids.map((x) => [x.bidId, x.priceCents])).toEqual(
      reference.strategy?.output.bids.map((x) => [x.bidId, x.priceCents]),
    );
    process.stderr.write(
      `dynamodb: ${samples.length} negotiations on two runners (one killed), ${elapsedMs} ms; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}\n`,
    );
    survivor.proc.kill('SIGTERM');
  }, 300_000);
});
