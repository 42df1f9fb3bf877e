import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contentPath } from '../common/index.js';
import { sampleRequisition, type NegotiationState } from '../orchestrator/index.js';
import { prepareRuntimeHome } from './runtime-home.js';
import { startOtlpReceiver } from './servers/otlp.js';
import { startServe, waitFor } from './serve-process.js';

/**
 * `charter negotiations serve` as an operator runs it: the built CLI in its own process, over
 * HTTP, killed with SIGKILL and started again on the same home.
 */
const CLI = contentPath('dist', 'cli', 'main.js');

/**
 * acme: 1 reserved slot, at most 2. globex: awards above 100.00 wait for a human, who has 6 s
 * (reminded 4 s before). initech: one slot only, every award automatic.
 */
const TENANTS = `defaults:
  admission: { reservedSlots: 1, maxSlots: 2, retryAfterSeconds: 7 }
tenants:
  acme: {}
  globex:
    config: { limits: { spendThresholdCents: 10000 }, approvalTimeoutSeconds: 6, approvalReminderSeconds: 4 }
  initech:
    config: { admission: { reservedSlots: 1, maxSlots: 1 }, limits: { spendThresholdCents: 100000000 } }
`;

let home: string;
const servers = new Set<ChildProcess>();

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'charter-serve-'));
  prepareRuntimeHome(home);
  writeFileSync(join(home, 'tenants.yaml'), TENANTS);
}, 180_000);

afterEach(() => {
  for (const s of servers) s.kill('SIGKILL');
  servers.clear();
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Served {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const { url, proc, stderr } = await startServe(home, ['--poll-seconds', '0.5', ...args], env);
  servers.add(proc);
  return {
    url,
    proc,
    stderr,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', (code) => {
          servers.delete(proc);
          resolve(code);
        });
        proc.kill('SIGTERM');
      }),
  };
}

function kill9(s: Served): Promise<void> {
  return new Promise((resolve) => {
    s.proc.once('exit', () => {
      servers.delete(s.proc);
      resolve();
    });
    s.proc.kill('SIGKILL');
  });
}

function submit(s: Served, tenant: string, sample: number): Promise<Response> {
  return fetch(`${s.url}/v1/tenants/${tenant}/negotiations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleRequisition(tenant, sample)),
  });
}

async function status(s: Served, location: string): Promise<{ running: boolean; negotiation: NegotiationState; error?: string }> {
  const res = await fetch(s.url + location);
  expect(res.status).toBe(200);
  return (await res.json()) as { running: boolean; negotiation: NegotiationState };
}

const settled = (s: Served, location: string) =>
  waitFor(
    async () => {
      const st = await status(s, location);
      return st.running || st.negotiation.status === 'ACTIVE' ? undefined : st;
    },
    60_000,
    `${location} to stop running`,
  );

describe('negotiations serve: admission over HTTP', () => {
  it('answers 202 with a Location up to the tenant limit and 429 with Retry-After past it, runs the admitted ones concurrently', async () => {
    // Metrics on, as an operator turns them on: the endpoint in the environment; exported when the service stops.
    const receiver = await startOtlpReceiver();
    const s = await serve(['--latency', '150'], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    try {
      // Four of acme's at once (slow suppliers keep the first two ACTIVE), and one of globex.
      const answers = await Promise.all([0, 2, 3, 4].map((i) => submit(s, 'acme', i)));
      const codes = answers.map((r) => r.status).sort();
      expect(codes).toEqual([202, 202, 429, 429]);
      for (const r of answers.filter((a) => a.status === 429)) {
        expect(r.headers.get('retry-after')).toBe('7');
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ADMISSION_DENIED');
      }
      const other = await submit(s, 'initech', 0);
      expect(other.status, 'another tenant still has its own slot').toBe(202);
      const locations = answers.filter((a) => a.status === 202).map((a) => a.headers.get('location')!);
      expect(locations.every((l) => /^\/v1\/tenants\/acme\/negotiations\/acme-n00\d$/.test(l))).toBe(true);
      // Both run at once in the one process: each is seen running before either ended.
      const running = await Promise.all(locations.map((l) => status(s, l)));
      expect(running.map((r) => r.negotiation.status)).toEqual(['ACTIVE', 'ACTIVE']);
      for (const l of locations) expect((await settled(s, l)).negotiation.status).toBe('AWARDED');
      // Their slots are free again: a refused one is admitted now.
      expect((await submit(s, 'acme', 3)).status).toBe(202);
      // Bad input is a 400 naming the field; an unknown tenant a 404; another tenant's id finds nothing.
      const bad = await fetch(`${s.url}/v1/tenants/acme/negotiations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...sampleRequisition('acme', 5), lines: 'none' }),
      });
      expect(bad.status).toBe(400);
      expect((await submit(s, 'hooli', 0)).status).toBe(404);
      expect((await fetch(`${s.url}/v1/tenants/initech${locations[0]!.slice('/v1/tenants/acme'.length)}`)).status).toBe(404);
      expect(await s.stop()).toBe(0);
      // The service counted the two 429s as acme's admission refusals, and the decisions it made.
      const refusals = receiver.latest('charter.admission.refusals');
      expect(refusals.map((p) => [p.service, p.attributes['tenant.id'], p.value])).toEqual([['charter negotiations serve', 'acme', 2]]);
      expect(receiver.latest('charter.gateway.decisions').reduce((n, p) => n + p.value, 0)).toBeGreaterThan(0);
    } finally {
      s.proc.kill('SIGKILL');
      await receiver.close();
    }
  }, 120_000);
});

describe('negotiations serve: approval deadlines fire by themselves', () => {
  it('reminds the approvers (webhook) before the deadline, then moves the negotiation to REQUIRES_ATTENTION with no manual step', async () => {
    const received: Array<{ at: number; body: Record<string, unknown> }> = [];
    const hook = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ at: Date.now(), body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/approvals`;
    const s = await serve(['--remind-webhook', hookUrl]);
    try {
      const res = await submit(s, 'globex', 0);
      expect(res.status).toBe(202);
      const location = res.headers.get('location')!;
      const waiting = await settled(s, location);
      expect(waiting.negotiation.status).toBe('AWAITING_APPROVAL');
      const { approvalId, deadline } = waiting.negotiation.approval!;
      const done = await waitFor(
        async () => {
          const st = await status(s, location);
          return st.negotiation.status === 'REQUIRES_ATTENTION' && st.negotiation.attention?.caseId ? st : undefined;
        },
        30_000,
        'the deadline to fire',
      );
      expect(done.negotiation.attention).toMatchObject({ trigger: 'approval_timeout', severity: 'major' });
      expect(done.negotiation.approval?.status).toBe('expired');
      expect(received).toHaveLength(1);
      expect(received[0]!.body).toMatchObject({ event: 'approval.reminder', tenantId: 'globex', approvalId, deadline });
      expect(received[0]!.at).toBeLessThan(Date.parse(deadline!));
      // The reminder is in the approver queue too.
      const queue = await charterJson(['approvals', 'list', '--json']);
      const entry = (queue.requests as Array<{ id: string; remindedAt: string | null }>).find((r) => r.id === approvalId);
      expect(entry?.remindedAt).toBeTruthy();
      expect(await s.stop()).toBe(0);
    } finally {
      s.proc.kill('SIGKILL');
      hook.close();
    }
  }, 120_000);

  it('fires a deadline that passed while no runtime was up, at once on start', async () => {
    const first = await serve([]);
    const res = await submit(first, 'globex', 1);
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    const waiting = await settled(first, location);
    expect(waiting.negotiation.status).toBe('AWAITING_APPROVAL');
    await kill9(first);
    // The deadline passes with no process running.
    const deadline = Date.parse(waiting.negotiation.approval!.deadline!);
    await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 500));
    const second = await serve([]);
    try {
      const startedAt = Date.now();
      const done = await waitFor(
        async () => {
          const st = await status(second, location);
          return st.negotiation.status === 'REQUIRES_ATTENTION' && st.negotiation.nextNode === null ? st : undefined;
        },
        20_000,
        'the overdue deadline to fire after the restart',
      );
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      expect(done.negotiation.attention?.trigger).toBe('approval_timeout');
      expect(second.stderr()).toContain(`approval ${waiting.negotiation.approval!.approvalId} expired`);
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe('negotiations serve: a dead runner', () => {
  it('reclaims the slot of a negotiation whose runner was killed: its lease expires, another runner resumes it', async () => {
    // A lease longer than the second runner takes to start, so it finds the slot still held.
    const first = await serve(['--latency', '300', '--lease-seconds', '20']);
    const res = await submit(first, 'initech', 1);
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    // Killed mid-run: initech's only slot is held by a negotiation nobody runs.
    await waitFor(async () => ((await status(first, location)).negotiation.nextNode === 'strategy' ? true : undefined), 30_000, 'node 4');
    await kill9(first);
    const second = await serve(['--latency', '300', '--lease-seconds', '20']);
    try {
      const refused = await submit(second, 'initech', 2);
      expect(refused.status, 'the dead runner still holds the slot until its lease expires').toBe(429);
      const done = await settled(second, location);
      expect(done.negotiation.status).toBe('AWARDED');
      expect(second.stderr()).toMatch(/initech\/initech-n002: took over from .* \(lease expired\), resuming/);
      expect((await submit(second, 'initech', 2)).status).toBe(202);
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe('a runtime that cannot start', () => {
  it.each([
    ['tenants.yaml', 'defaults:\n  admission: { reservedSlots: nope }\n', ['negotiations', 'run', '--tenant', 'acme', '--sample', '0']],
    ['tenants.yaml', 'tenants: [acme]\n', ['negotiations', 'serve', '--tenants', 'acme']],
    ['approvers.yaml', 'approvers: { alice: { tenants: 7 } }\n', ['negotiations', 'serve', '--tenants', 'acme']],
  ])(
    'exits non-zero promptly on a bad %s, leaving the audit log unlocked (%#)',
    async (file, text, args) => {
      const dir = mkdtempSync(join(tmpdir(), 'charter-badcfg-'));
      try {
        cpSync(join(home, 'keys'), join(dir, 'keys'), { recursive: true });
        cpSync(join(home, 'manifests'), join(dir, 'manifests'), { recursive: true });
        cpSync(join(home, 'releases'), join(dir, 'releases'), { recursive: true });
        writeFileSync(join(dir, file), text);
        const t0 = Date.now();
        const r = await run(args, dir, 30_000);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(file);
        expect(Date.now() - t0).toBeLessThan(30_000);
        expect(existsSync(join(dir, 'audit', 'LOCK'))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

/** Runs the CLI; a process still running after `timeoutMs` is killed and reported as code null. */
function run(args: string[], dir: string, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function charterJson(args: string[]): Promise<Record<string, unknown>> {
  const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => p.once('exit', r));
  return JSON.parse(out) as Record<string, unknown>;
}
