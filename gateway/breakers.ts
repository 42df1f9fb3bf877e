/**
 * Isolation of load between tenants and upstreams. Every limiter is keyed, never global: a
 * tenant that exhausts its rate, or an upstream that is slow for one tenant, uses up only its
 * own key's budget, so tenant B's calls never queue behind tenant A's.
 */

export interface RateLimit {
  /** Sustained calls a second. */
  perSecond: number;
  /** Burst size. */
  burst: number;
}

/** Token buckets, one a key (tenant). */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for the key; false when the key is over its rate. */
  take(key: string): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

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
  ) {}

  /** How long a guarded call may take before it fails. */
  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  state(key: string): 'closed' | 'open' | 'half-open' {
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
    if (state === 'half-open') s.probing = true;
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
      s.failures = 0;
      s.openUntil = 0;
      return out;
    } catch (err) {
      s.failures++;
      if (s.failures >= this.opts.failureThreshold || s.probing) s.openUntil = this.now() + this.opts.openMs;
      throw err;
    } finally {
      clearTimeout(timer);
      s.inFlight--;
      s.probing = false;
    }
  }
}
