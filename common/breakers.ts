/**
 * Circuit breakers, bulkheads and deadlines around every remote call (upstream tools, suppliers,
 * models, agent runtimes, the S3 audit sink), and the board that lists them.
 */

export interface UpstreamGuardOptions {
  /** Calls in flight at once for one key before further calls are refused (bulkhead). */
  maxConcurrent: number;
  /** A call slower than this fails and counts as a failure. */
  timeoutMs: number;
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker refuses calls before letting one probe through. */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A breaker that changed state: which guard, which key, from and to, and the failure that did it. */
export interface BreakerChange {
  breaker: string;
  key: string;
  /** The tenant the key belongs to, for breakers keyed by tenant first (`tenant|upstream`). */
  tenantId: string | null;
  from: BreakerState;
  to: BreakerState;
  failures: number;
  reason: string;
  at: string;
}

export class UpstreamRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamRefused';
  }
}

interface KeyState {
  inFlight: number;
  failures: number;
  openUntil: number;
  probing: boolean;
}

/**
 * Per-key (tenant + upstream) bulkhead, timeout and circuit breaker around upstream calls.
 * Closed: calls pass. After `failureThreshold` consecutive failures the breaker opens and
 * refuses at once; after `openMs` one probe passes (half-open) and its outcome closes or
 * re-opens it.
 */
export class UpstreamGuard {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly opts: UpstreamGuardOptions,
    private readonly now: () => number = Date.now,
    /** Told of every state change (BreakerBoard.guard sets it). */
    private readonly onChange?: (key: string, from: BreakerState, to: BreakerState, failures: number, reason: string) => void,
  ) {}

  /** Every key that ever failed or was refused, with its state now. */
  states(): Array<{ key: string; state: BreakerState; failures: number }> {
    return [...this.keys].map(([key, s]) => ({ key, state: this.state(key), failures: s.failures }));
  }

  /** How long a guarded call may take before it fails. */
  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  state(key: string): BreakerState {
    const s = this.keys.get(key);
    if (!s || s.openUntil === 0) return 'closed';
    return this.now() < s.openUntil ? 'open' : 'half-open';
  }

  async run<T>(key: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const s = this.keys.get(key) ?? { inFlight: 0, failures: 0, openUntil: 0, probing: false };
    this.keys.set(key, s);
    const state = this.state(key);
    if (state === 'open') throw new UpstreamRefused(`circuit open for ${key} after ${s.failures} consecutive failures`);
    if (state === 'half-open' && s.probing) throw new UpstreamRefused(`circuit half-open for ${key}: a probe call is in flight`);
    if (s.inFlight >= this.opts.maxConcurrent)
      throw new UpstreamRefused(`${key} has ${s.inFlight} calls in flight (limit ${this.opts.maxConcurrent})`);
    if (state === 'half-open') {
      s.probing = true;
      this.onChange?.(key, 'open', 'half-open', s.failures, `${this.opts.openMs} ms open: one probe call passes`);
    }
    s.inFlight++;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new UpstreamRefused(`${key} did not answer within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
    });
    try {
      const out = await Promise.race([call(abort.signal), timeout]);
      const failures = s.failures;
      s.failures = 0;
      if (s.openUntil !== 0) {
        s.openUntil = 0;
        this.onChange?.(key, 'half-open', 'closed', failures, 'the probe call succeeded');
      }
      return out;
    } catch (err) {
      s.failures++;
      if (s.failures >= this.opts.failureThreshold || s.probing) {
        const from = s.probing ? 'half-open' : s.openUntil === 0 ? 'closed' : 'open';
        s.openUntil = this.now() + this.opts.openMs;
        if (from !== 'open') this.onChange?.(key, from, 'open', s.failures, err instanceof Error ? err.message : String(err));
      }
      throw err;
    } finally {
      clearTimeout(timer);
      s.inFlight--;
      s.probing = false;
    }
  }
}

interface Registered {
  name: string;
  guard: UpstreamGuard;
  tenantKeyed: boolean;
}

/** One breaker key as a listing shows it. */
export interface BreakerStatus {
  breaker: string;
  key: string;
  state: BreakerState;
  failures: number;
}

/**
 * The breakers of a process: every guard made through `guard()` is listed by `states()` and
 * reports its changes to the listeners (the home records them in the audit trail and in
 * `breakers.json`, metrics observe `states()`). Guards are named by what they protect:
 * `gateway-upstream`, `suppliers`, `bedrock`, `agent-runtime`, `audit-s3`.
 */
export class BreakerBoard {
  private readonly registered = new Set<Registered>();
  private readonly listeners = new Set<(change: BreakerChange) => void>();

  /** A new guard under `name`; `tenantKeyed`: its keys start with the tenant (`tenant|...`). */
  guard(name: string, opts: UpstreamGuardOptions, extra: { tenantKeyed?: boolean; now?: () => number } = {}): UpstreamGuard {
    const guard = new UpstreamGuard(opts, extra.now, (key, from, to, failures, reason) => {
      const change: BreakerChange = {
        breaker: name,
        key,
        tenantId: extra.tenantKeyed ? (key.split('|')[0] ?? null) : null,
        from,
        to,
        failures,
        reason,
        at: new Date().toISOString(),
      };
      for (const listener of this.listeners) listener(change);
    });
    this.registered.add({ name, guard, tenantKeyed: extra.tenantKeyed ?? false });
    return guard;
  }

  /** Forgets a guard whose owner closed (its keys leave the listing). */
  release(guard: UpstreamGuard): void {
    for (const r of this.registered) if (r.guard === guard) this.registered.delete(r);
  }

  /** Listens to state changes; returns the unsubscribe. */
  onChange(listener: (change: BreakerChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  states(): BreakerStatus[] {
    return [...this.registered].flatMap((r) => r.guard.states().map((s) => ({ breaker: r.name, ...s })));
  }
}

/** The process's breakers. */
export const BREAKERS = new BreakerBoard();
