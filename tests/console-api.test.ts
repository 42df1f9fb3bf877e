import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSignIn, localConsoleIdentity } from '../console/index.js';
import { installGuard } from '../console/guard.js';
import { consoleHome, startConsoleCli, token, type ConsoleHome, type RunningConsoleProcess } from './console-browser.js';
import type { RecordView, SessionInfo, TrailPage, TrailRow, TrailStatus } from '../console/index.js';

// The console API's authorization over plain HTTP (no browser), against `charter console` as a
// user starts it: sign-in by the gateway's identity code, roles, and tenant scope that never
// shows another tenant's records, counts, names or errors.
let h: ConsoleHome;
let other: ConsoleHome;
let running: RunningConsoleProcess;
let acme: string;
let all: string;

async function api(path: string, jwt?: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(new URL(path, running.url), {
    ...init,
    headers: { ...(jwt ? { authorization: `Bearer ${jwt}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text };
}

beforeAll(async () => {
  [h, other] = await Promise.all([consoleHome(120), consoleHome(3)]);
  running = await startConsoleCli(h.home, ['--trusted-keys', h.pinnedKeys]);
  acme = token(h.home, 'ada', 'auditor', 'acme');
  all = token(h.home, 'sam', 'auditor');
});
afterAll(async () => {
  await running?.stop();
  h?.remove();
  other?.remove();
});

describe('sign-in', () => {
  it('refuses a request without a token, a token of another home (forged) and garbage with 401', async () => {
    expect((await api('/api/trail')).status).toBe(401);
    const forged = token(other.home, 'mallory', 'auditor');
    const r = await api('/api/trail', forged);
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/token rejected/);
    expect((await api('/api/trail', 'not.a.token')).status).toBe(401);
  });

  it('reads name, role and tenant scope from the verified token', async () => {
    expect((await api('/api/session', acme)).body).toEqual({ name: 'ada', role: 'auditor', tenant: 'acme' } satisfies SessionInfo);
    expect((await api('/api/session', all)).body).toEqual({ name: 'sam', role: 'auditor', tenant: null } satisfies SessionInfo);
  });

  it('refuses the trail to a role other than auditor with 403', async () => {
    const r = await api('/api/trail', token(h.home, 'bob', 'approver', 'acme'));
    expect(r.status).toBe(403);
  });

  it('refuses to register an API route that declares no roles', async () => {
    const app = Fastify();
    installGuard(app, ConsoleSignIn.fromConfig(await localConsoleIdentity(h.home)));
    expect(() => app.get('/api/unguarded', () => 'open')).toThrow(/declares no roles/);
  });
});

describe('tenant scope', () => {
  const globexRecord = (): string => h.records.find((r) => r.tenantId === 'globex')!.id;

  it('shows a tenant-scoped auditor only their tenant', async () => {
    const r = await api('/api/trail?kind=decision', acme);
    expect(r.status).toBe(200);
    const rows = (r.body as TrailPage).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((x) => x.tenant))).toEqual(new Set(['acme']));
    expect(r.text).not.toMatch(/globex|initech/);
  });

  it('answers another tenant exactly as a tenant that does not exist: 404, naming nothing else', async () => {
    const foreign = await api('/api/trail?tenant=globex', acme);
    const none = await api('/api/trail?tenant=nosuch', acme);
    expect(foreign.status).toBe(404);
    expect(none.status).toBe(404);
    expect((foreign.body as { error: string }).error.replace('globex', 'X')).toBe(
      (none.body as { error: string }).error.replace('nosuch', 'X'),
    );
  });

  it('answers a globex record id to an acme auditor exactly as an id that does not exist', async () => {
    const id = globexRecord();
    const foreign = await api(`/api/trail/records/${id}`, acme);
    const missing = await api('/api/trail/records/01a00000-0000-7000-8000-000000000000', acme);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.text.replace(id, 'ID')).toBe(missing.text.replace('01a00000-0000-7000-8000-000000000000', 'ID'));
    expect(foreign.text).not.toMatch(/globex/);
    // an all-tenant auditor opens it
    const seen = await api(`/api/trail/records/${id}`, all);
    expect(seen.status).toBe(200);
    expect((seen.body as RecordView).record.tenantId).toBe('globex');
  });

  it('exports only the own tenant: another is a 404, none means the own', async () => {
    const foreign = await api('/api/trail/export', acme, { method: 'POST', body: JSON.stringify({ tenant: 'globex' }) });
    expect(foreign.status).toBe(404);
    const own = await api('/api/trail/export', acme, { method: 'POST', body: JSON.stringify({}) });
    expect(own.status).toBe(200);
    expect((own.body as { filter: { tenant: string } }).filter.tenant).toBe('acme');
  });

  it('shows the verification status without tenant names', async () => {
    const r = await api('/api/trail/status', acme);
    expect(r.status).toBe(200);
    expect((r.body as TrailStatus).ok).toBe(true);
    expect(r.text).not.toMatch(/globex|initech|acme/);
  });
});

describe('paging and the record of each view', () => {
  it('pages newest first by keyset cursor over every record of the filter, none twice', async () => {
    const seen: TrailRow[] = [];
    let path: string | null = '/api/trail?tenant=acme&kind=decision';
    while (path) {
      const page: TrailPage = (await api(path, all)).body as TrailPage;
      seen.push(...page.rows);
      path = page.next ? `/api/trail?tenant=acme&kind=decision&cursor=${encodeURIComponent(page.next)}` : null;
    }
    const expected = h.records.filter((r) => r.tenantId === 'acme').reverse();
    expect(seen.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  });

  it('rejects a malformed cursor and filter values with 400 naming the field', async () => {
    expect((await api('/api/trail?cursor=12', all)).status).toBe(400);
    const r = await api('/api/trail?decision=maybe', all);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/decision/);
  });

  it('the verification asked for while a page view is being recorded reads the trail with that record sealed, not half written', async () => {
    // The page asks for the list (recorded) and the banner's status at once, as the trail page does.
    for (let i = 0; i < 3; i++) {
      const [, status] = await Promise.all([api(`/api/trail?tool=t${i}`, all), api('/api/trail/status', all)]);
      expect(status.body).toMatchObject({ ok: true, failing: [] });
    }
  }, 60_000);

  it('records every page view of the trail in the trail, naming the viewer', async () => {
    const id = h.records.find((r) => r.tenantId === 'acme')!.id;
    expect((await api(`/api/trail/records/${id}`, acme)).status).toBe(200);
    await expect
      .poll(
        async () => {
          const page = (await api('/api/trail?kind=evidence&tenant=acme', all)).body as TrailPage;
          return page.rows.map((r) => r.summary);
        },
        { timeout: 15_000, interval: 500 },
      )
      .toContain(`auditor ada: trail.record ${id}`);
  });
});
