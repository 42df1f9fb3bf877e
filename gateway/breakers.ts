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

export { UpstreamGuard, UpstreamRefused, type UpstreamGuardOptions } from '../common/index.js';
