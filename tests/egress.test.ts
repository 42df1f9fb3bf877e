import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath, isLoopbackHost } from '../common/index.js';
import { prepareRuntimeHome } from './runtime-home.js';

// The egress allow-list on the built CLI. A recorder loaded before Charter (node --import) logs
// every TCP connection that reaches Node's net layer; Charter's guard wraps it, so what the
// recorder sees is what was let through. Refused attempts go to stderr and the home's log.
const CLI = contentPath('dist', 'cli', 'main.js');
const RECORDER = `import net from 'node:net';
import { appendFileSync } from 'node:fs';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let o = Array.isArray(args[0]) ? args[0][0] : args[0];
  const to = o && typeof o === 'object' ? (o.path !== undefined ? { path: o.path } : { host: o.host ?? 'localhost', port: Number(o.port) })
    : { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: Number(o) };
  appendFileSync(process.env.EGRESS_RECORD, JSON.stringify({ pid: process.pid, command: process.argv.slice(2, 4).join(' '), ...to }) + '\\n');
  return connect.apply(this, args);
};
`;

let root: string;
let home: string;
let record: string;
let recorder: string;

function charter(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, CHARTER_HOME: home, EGRESS_RECORD: record, NODE_OPTIONS: `--import=${pathToFileURL(recorder).href}`, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Recorded {
  pid: number;
  command: string;
  host?: string;
  port?: number;
  path?: string;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'charter-egress-'));
  home = join(root, 'home');
  record = join(root, 'connections.jsonl');
  recorder = join(root, 'recorder.mjs');
  writeFileSync(recorder, RECORDER);
  writeFileSync(record, '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('egress allow-list', () => {
  it(
    'an eval run and a negotiation (agents as processes) connect to nothing but loopback, and nothing is refused',
    { timeout: 600_000 },
    () => {
      prepareRuntimeHome(home);
      // init completes the home the runtime helper made (it keeps existing keys): config, logs, tenants.
      expect(charter(['init']).code).toBe(0);
      const steps = [
        ['evals', 'run', 'kraljic-classification', '--manifest', join(home, 'manifests', 'kraljic-classifier.manifest.json')],
        ['negotiations', 'run', '--tenant', 'acme', '--sample', '1', '--agent-processes'],
      ];
      for (const args of steps) {
        const r = charter(args);
        expect(r.code, `charter ${args.join(' ')}: ${r.err}`).toBe(0);
        expect(r.err).not.toContain('refused a connection');
      }
      const made = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Recorded);
      // The negotiation's agents are processes reached over HTTP: the recorder did see traffic.
      expect(made.some((c) => c.command.startsWith('negotiations run') && c.host !== undefined)).toBe(true);
      const outside = made.filter((c) => c.host !== undefined && !isLoopbackHost(c.host));
      expect(outside).toEqual([]);
      expect(existsSync(join(home, 'logs', 'egress-refused.jsonl'))).toBe(false);
    },
  );

  it('a connection outside the list is refused before any lookup, on stderr and counted in the home; a configured one is let through', () => {
    const h = join(root, 'probe-home');
    expect(charter(['init'], { CHARTER_HOME: h }).code).toBe(0);
    writeFileSync(join(h, 'config.yaml'), 'egress:\n  allow: ["allowed.invalid:443"]\n');
    // One process, the guard as the CLI installs it, then every client API Node has.
    const probe = join(root, 'probe.mjs');
    writeFileSync(
      probe,
      `import { startCli } from ${JSON.stringify(pathToFileURL(contentPath('dist', 'cli', 'start.js')).href)};
import http from 'node:http'; import https from 'node:https'; import net from 'node:net'; import tls from 'node:tls';
await startCli([]);
const outcome = (p) => p.then(() => 'connected', (e) => e.code ?? e.cause?.code ?? String(e));
const viaEvents = (make) => new Promise((resolve) => { const s = make(); s.on('error', (e) => resolve(e.code)); s.on('connect', () => resolve('connected')); s.on?.('response', () => resolve('connected')); });
const results = {
  fetch: await outcome(fetch('https://telemetry.example.com/beacon', { method: 'POST', body: '{}' })),
  http: await viaEvents(() => http.request('http://198.51.100.7/x').end()),
  https: await viaEvents(() => https.request('https://api.example.org/x').end()),
  net: await viaEvents(() => net.connect(443, '203.0.113.9')),
  tls: await viaEvents(() => tls.connect({ host: 'example.net', port: 443 })),
  allowed: await viaEvents(() => net.connect(443, 'allowed.invalid')),
};
console.log(JSON.stringify(results));
`,
    );
    const r = spawnSync(process.execPath, [probe], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: h } });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Record<string, string>;
    for (const api of ['fetch', 'net', 'tls']) expect(results[api], api).toBe('CHARTER_EGRESS_REFUSED');
    // node:http reports the refused socket as closed under the request.
    for (const api of ['http', 'https']) expect(results[api], api).not.toBe('connected');
    // The allowed name went on to a lookup (which fails: .invalid never resolves), not to a refusal.
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(results.allowed);
    expect(r.stderr).not.toContain('allowed.invalid');
    for (const dest of ['telemetry.example.com:443', '198.51.100.7:80', 'api.example.org:443', '203.0.113.9:443', 'example.net:443'])
      expect(r.stderr).toContain(`refused a connection to ${dest}`);
    const counted = readFileSync(join(h, 'logs', 'egress-refused.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(counted).toHaveLength(5);
  });
  it(
    'the release dependency gate asks no registry the configuration does not name: refused, logged, and the gate is not-run',
    { timeout: 300_000 },
    () => {
      const h = join(root, 'release-home');
      for (const args of [['init'], ['packs', 'compile', '--agent', 'kraljic-classifier']])
        expect(charter(args, { CHARTER_HOME: h }).code, args.join(' ')).toBe(0);
      writeFileSync(record, '');
      const manifest = join(h, 'manifests', 'kraljic-classifier.manifest.json');
      const r = charter(['release', 'check', '--env', 'dev', '--manifest', manifest, '--json'], { CHARTER_HOME: h });
      const gates = (JSON.parse(r.out) as { gates: Array<{ gate: string; status: string; summary: string }> }).gates;
      const deps = gates.find((g) => g.gate === 'dependencies')!;
      expect(deps.status).toBe('not-run');
      expect(deps.summary).toMatch(/the registry https:\/\/registry\.npmjs\.org\/ is not in the egress allow-list/);
      expect(r.err).toContain('refused a connection to registry.npmjs.org:443');
      const refused = readFileSync(join(h, 'logs', 'egress-refused.jsonl'), 'utf8');
      expect(refused).toContain('"destination":"registry.npmjs.org:443"');
      // The recorder is loaded into every Node process started with these options, npm included: nothing left the machine.
      const made = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Recorded);
      expect(made.filter((c) => c.host !== undefined && !isLoopbackHost(c.host))).toEqual([]);
    },
  );
});
