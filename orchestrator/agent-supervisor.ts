import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { INVOCATION_ENVELOPE } from '../agents/index.js';
import { errorMessage, errorWithCauses, FindingError, InputError } from '../common/index.js';

export interface AgentSupervisorOptions {
  agents: readonly string[];
  /**
   * The argv that starts one agent process, which prints its base URL as its first stdout line
   * and stops when its stdin closes (charter agents serve --supervised).
   */
  argv: (agent: string) => string[];
  /** How long a process may take to answer /ping Healthy (default 60 s: eight start at once on two cores). */
  readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL on close (default 5 s). */
  stopGraceMs?: number;
  /** Restarts per agent within `restartWindowMs` before it is left down (default 3). */
  maxRestarts?: number;
  /**
   * The window the restart budget counts over (default 10 min): a process that crashes now and
   * then over a long life is restarted each time; one that crash-loops is left down.
   */
  restartWindowMs?: number;
  /** Crashes and restarts are reported here. */
  warn?: (message: string) => void;
  /**
   * A record an agent process printed after its URL (a line starting with
   * INVOCATION_ENVELOPE.recordPrefix, JSON after it): what it refused, for the audit trail.
   */
  onRecord?: (agent: string, record: unknown) => void;
}

interface Running {
  child: ChildProcess;
  /** Resolves with the base URL once /ping answers Healthy. */
  ready: Promise<string>;
  exited: Promise<string>;
  stderr: string[];
  startMs: number;
}

/** One running agent process, as handed to a dispatcher. */
export interface AgentEndpoint {
  url: string;
  pid: number | undefined;
  /** Names agent, pid and how the process died (or that it is still running) for an invocation that got no answer. */
  failure(cause: unknown): Promise<FindingError>;
}

const STDERR_LINES = 20;

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

async function waitHealthy(url: string, until: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`${url}/ping`);
      const body = (await res.json()) as { status?: string };
      if (res.ok && (body.status === 'Healthy' || body.status === 'HealthyBusy')) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error(`no Healthy answer on ${url}/ping`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs each agent as its own process (`charter agents serve`), waits until its /ping answers
 * Healthy, restarts one that dies unexpectedly (a bounded number of times), and on close stops
 * them all: SIGTERM, then SIGKILL after a grace period. An invocation that was in flight on a
 * crashed process fails with an error naming the agent and how its process died.
 */
export class AgentSupervisor {
  private readonly running = new Map<string, Running>();
  /** When each agent was restarted, within the restart window. */
  private readonly restarts = new Map<string, number[]>();
  private readonly down = new Map<string, string>();
  private closing = false;
  /** Time from spawn to Healthy of each agent's latest start. */
  readonly startMs = new Map<string, number>();

  constructor(private readonly opts: AgentSupervisorOptions) {}

  /** Starts every agent and resolves once all are Healthy; a process that fails to start stops the others. */
  async start(): Promise<void> {
    for (const agent of this.opts.agents) this.spawn(agent);
    try {
      await Promise.all(this.opts.agents.map((a) => this.running.get(a)!.ready));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * The agent's process once it is Healthy (after a restart, the new one): its base URL, and
   * `failure` to explain an invocation of that process that got no answer.
   */
  async endpoint(agent: string): Promise<AgentEndpoint> {
    const dead = this.down.get(agent);
    if (dead) throw new FindingError(`agent process ${agent} is down: ${dead}`);
    const r = this.running.get(agent);
    if (!r) throw new InputError(`no agent process for '${agent}' (one of ${this.opts.agents.join(', ')})`, { field: 'agent' });
    const url = await r.ready;
    const pid = r.child.pid;
    return {
      url,
      pid,
      // A reset connection usually arrives before the exit status: wait briefly for it.
      failure: async (cause) => {
        const how = await Promise.race([r.exited, new Promise<undefined>((res) => setTimeout(res, 1_000, undefined))]);
        const detail = errorWithCauses(cause);
        return new FindingError(
          how
            ? `agent process ${agent} (pid ${pid}) ${how} during the invocation: ${detail}`
            : `agent process ${agent} (pid ${pid}) did not answer the invocation: ${detail}`,
        );
      },
    };
  }

  pid(agent: string): number | undefined {
    return this.running.get(agent)?.child.pid;
  }

  async close(): Promise<void> {
    this.closing = true;
    const grace = this.opts.stopGraceMs ?? 5_000;
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        if (r.child.exitCode !== null || r.child.signalCode !== null) return;
        r.child.kill('SIGTERM');
        const timer = setTimeout(() => r.child.kill('SIGKILL'), grace);
        await r.exited;
        clearTimeout(timer);
      }),
    );
  }

  private spawn(agent: string): void {
    const [cmd, ...args] = this.opts.argv(agent);
    const t0 = performance.now();
    // stdin stays open and unused: a supervised process stops when it closes, i.e. when we die.
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > STDERR_LINES) stderr.shift();
      // Charter's own diagnostics (config-store warnings) are passed on, as in process.
      if (line.startsWith('charter: ')) this.opts.warn?.(`agent process ${agent}: ${line.slice('charter: '.length)}`);
    });
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(describeExit(code, signal))));
    const tail = () => (stderr.length ? `; its stderr: ${stderr.join(' | ')}` : '');
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 60_000);
    const ready = new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => this.recordLine(agent, line));
      lines.once('line', (line) => {
        const url = line.trim();
        if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) {
          reject(new FindingError(`agent process ${agent} printed '${line.slice(0, 200)}' instead of its loopback URL${tail()}`));
          return;
        }
        waitHealthy(url, deadline).then(
          () => resolve(url),
          (err: unknown) => reject(new FindingError(`agent process ${agent}: ${errorMessage(err)}${tail()}`)),
        );
      });
      void exited.then((how) => reject(new FindingError(`agent process ${agent} ${how} before it was ready${tail()}`)));
      setTimeout(
        () => reject(new FindingError(`agent process ${agent} was not ready within ${this.opts.readyTimeoutMs ?? 60_000} ms${tail()}`)),
        Math.max(0, deadline - Date.now()),
      ).unref();
    });
    const running: Running = { child, ready, exited, stderr, startMs: t0 };
    ready.then(() => this.startMs.set(agent, performance.now() - t0)).catch(() => undefined);
    void exited.then((how) => this.onExit(agent, running, how, tail()));
    this.running.set(agent, running);
  }

  private recordLine(agent: string, line: string): void {
    if (!line.startsWith(INVOCATION_ENVELOPE.recordPrefix)) return;
    try {
      this.opts.onRecord?.(agent, JSON.parse(line.slice(INVOCATION_ENVELOPE.recordPrefix.length)));
    } catch (err) {
      this.opts.warn?.(`agent process ${agent} printed a record that is not JSON: ${errorMessage(err)}`);
    }
  }

  private onExit(agent: string, r: Running, how: string, tail: string): void {
    if (this.closing || this.running.get(agent) !== r) return;
    const now = Date.now();
    const windowMs = this.opts.restartWindowMs ?? 10 * 60_000;
    const recent = (this.restarts.get(agent) ?? []).filter((t) => now - t < windowMs);
    const n = recent.length + 1;
    const max = this.opts.maxRestarts ?? 3;
    if (n > max) {
      this.down.set(agent, `it ${how} and was restarted ${max} time(s) within ${windowMs / 1000} s already${tail}`);
      this.opts.warn?.(
        `agent process ${agent} (pid ${r.child.pid}) ${how}; not restarting (${max} restarts within ${windowMs / 1000} s used)`,
      );
      return;
    }
    this.restarts.set(agent, [...recent, now]);
    this.opts.warn?.(`agent process ${agent} (pid ${r.child.pid}) ${how}; restarting (${n}/${max})`);
    this.spawn(agent);
  }
}
