import { appendFileSync, existsSync } from 'node:fs';
import { isIP, Socket, type SocketConnectOpts } from 'node:net';
import { join } from 'node:path';
import { ErrorCode, InputError } from './errors.js';

/**
 * The egress allow-list: every outbound TCP connection a Charter process opens goes through
 * `net.Socket.prototype.connect` (node:http and node:https, fetch/undici, the AWS SDK, tls and
 * http2 all end there), so one hook there sees them all. A destination that is neither loopback
 * nor named by the configuration is refused before any name lookup: the socket fails with
 * CHARTER_EGRESS_REFUSED, a warning goes to stderr and, when the process has a Charter home, a
 * line to `<home>/logs/egress-refused.jsonl` (the count of refusals is its line count).
 *
 * Loopback (127.0.0.0/8, ::1, `localhost`) and Unix sockets are always allowed: traffic there
 * does not leave the machine; Charter's own servers (gateway, agent runtimes, tool servers) and
 * the local test servers live there. Not covered: UDP (Charter sends none), a library resolving
 * a name without connecting, native addons opening sockets outside Node's net module, and child
 * processes that are not Charter (Charter's own children install the guard themselves).
 */
export interface EgressRule {
  /** Lower-case host name or IP literal; `*.example.com` matches every subdomain of example.com. */
  host: string;
  /** Absent: any port. */
  port?: number;
  /** Where the rule comes from, for --verbose and the refusal message. */
  source: string;
}

export interface EgressGuardOptions {
  rules: EgressRule[];
  /** Home to count refusals in (not created when absent). */
  home?: string;
  /** Called with each allowed non-loopback destination (for --verbose). */
  onAllowed?: (destination: string, rule: EgressRule) => void;
}

interface Guard {
  rules: EgressRule[];
  opts: EgressGuardOptions;
}

let guard: Guard | undefined;

const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Parses an allow-list entry: a URL (`https://judge.example.com/v1` allows that host and port),
 * `host:port`, `host` (any port) or `*.domain`.
 */
export function parseEgressRule(entry: string, source: string): EgressRule {
  const text = entry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const url = new URL(text);
    const port = url.port ? Number(url.port) : DEFAULT_PORT[url.protocol];
    return { host: bareHost(url.hostname), ...(port !== undefined ? { port } : {}), source };
  }
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  if (!m || !m[1])
    throw new InputError(`not an egress allow-list entry: '${entry}' (a URL, host, host:port or *.domain)`, { field: source });
  return { host: bareHost(m[1]), ...(m[2] ? { port: Number(m[2]) } : {}), source };
}

function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

export function isLoopbackHost(host: string): boolean {
  const h = bareHost(host);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

function ruleMatches(rule: EgressRule, host: string, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.host.startsWith('*.')) return host.endsWith(rule.host.slice(1));
  return rule.host === host;
}

/** The rule that allows host:port, 'loopback', or undefined when the connection must be refused. */
export function egressDecision(rules: readonly EgressRule[], host: string, port: number): EgressRule | 'loopback' | undefined {
  const h = bareHost(host);
  if (isLoopbackHost(h)) return 'loopback';
  return rules.find((r) => ruleMatches(r, h, port));
}

/** Adds endpoints the configuration names at run time (a judge's base URL read from its YAML, say). */
export function allowEgress(entry: string, source: string): void {
  if (!guard) return;
  const rule = parseEgressRule(entry, source);
  if (!guard.rules.some((r) => r.host === rule.host && r.port === rule.port)) guard.rules.push(rule);
}

/**
 * Whether this process may let a child that is not Charter (npm, say) connect to `url`: the
 * guard's own decision, asked before the child starts because the guard does not run in it. A
 * refusal is warned about and logged like any refused connection. Without a guard installed
 * nothing is configured, so the answer is no (fail closed).
 */
export function egressAllowedFor(url: string): boolean {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : (DEFAULT_PORT[u.protocol] ?? 0);
  const decision = egressDecision(egressRules(), u.hostname, port);
  if (decision === undefined) recordRefusal(`${bareHost(u.hostname)}:${port}`, guard?.opts.home);
  else if (decision !== 'loopback') guard?.opts.onAllowed?.(`${bareHost(u.hostname)}:${port}`, decision);
  return decision !== undefined;
}

/** The allow-list in force (empty when no guard is installed). */
export function egressRules(): readonly EgressRule[] {
  return guard?.rules ?? [];
}

/** Where a connect() call is going: Node accepts (options), (path), (port, host) and its internal normalized [options, cb]. */
function destinationOf(args: unknown[]): { host: string; port: number } | 'ipc' {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'string' && !/^\d+$/.test(first)) return 'ipc';
  if (typeof first === 'number' || typeof first === 'string') {
    return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
  }
  const o = (first ?? {}) as SocketConnectOpts & { host?: string; port?: number | string; path?: string };
  // http passes its request options, where `path` is null: only a string path is a Unix socket.
  if (typeof o.path === 'string' && o.path !== '') return 'ipc';
  return { host: o.host ?? 'localhost', port: Number(o.port) };
}

function recordRefusal(destination: string, home: string | undefined): void {
  process.stderr.write(
    `charter: warning: refused a connection to ${destination}: not in the egress allow-list (add it under egress.allow in the home's config.yaml)\n`,
  );
  if (!home || !existsSync(home)) return;
  try {
    const logs = join(home, 'logs');
    if (!existsSync(logs)) return;
    appendFileSync(
      join(logs, 'egress-refused.jsonl'),
      JSON.stringify({ at: new Date().toISOString(), destination, pid: process.pid }) + '\n',
    );
  } catch {
    // Counting is best effort; the refusal itself already happened.
  }
}

/**
 * Installs the guard for this process (once; later calls replace the rules). Must run before
 * anything that may connect is imported: the CLI installs it first thing in main.
 */
export function installEgressGuard(opts: EgressGuardOptions): void {
  const first = !guard;
  guard = { rules: [...opts.rules], opts };
  if (!first) return;
  const connect = Socket.prototype.connect as (this: Socket, ...args: unknown[]) => Socket;
  Socket.prototype.connect = function guardedConnect(this: Socket, ...args: unknown[]): Socket {
    const dest = destinationOf(args);
    if (dest === 'ipc' || !guard) return connect.apply(this, args);
    const decision = egressDecision(guard.rules, dest.host, dest.port);
    const destination = `${dest.host}:${dest.port}`;
    if (decision === undefined) {
      recordRefusal(destination, guard.opts.home);
      const err = Object.assign(new Error(`egress refused: ${destination} is not in Charter's allow-list`), {
        code: ErrorCode.egressRefused,
      });
      // As a real refusal would: after this turn, once callers (http's ClientRequest) listen.
      setImmediate(() => this.destroy(err));
      return this;
    }
    if (decision !== 'loopback') guard.opts.onAllowed?.(destination, decision);
    return connect.apply(this, args);
  } as typeof Socket.prototype.connect;
}
