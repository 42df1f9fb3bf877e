import type { cedar } from './cedar.js';

/** What a cached Cedar answer holds: the decision and the policies that determined it. */
export interface CachedAnswer {
  decision: 'allow' | 'deny';
  determining: string[];
}

export interface DecisionCacheOptions {
  /** Most answers kept (least recently used go first). */
  maxEntries?: number;
  /**
   * Every Nth hit is decided again by Cedar and compared: the cache's correctness is checked
   * in production, not only in the differential tests. 0 turns the check off.
   */
  verifyEvery?: number;
}

export type CacheLookup = { hit: CachedAnswer; verify: boolean } | { hit: undefined; verify: false };

/**
 * Cedar answers keyed by the complete request Cedar would receive: principal, action, resource,
 * the whole context (tenant, approvals, the projected arguments, the tenant's limits) and the
 * whole entity slice (so any change to entity data, a kill switch or an approval is a different
 * key). The policy set and schema are fixed per engine, which owns one cache. Cedar is a pure
 * function of exactly these inputs, so a hit is the answer a fresh call would give; anything
 * the key leaves out would be a bug, which the sampled re-check and the differential tests
 * exist to catch. A disagreement turns the cache off for good (fail closed to fresh Cedar).
 */
export class DecisionCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private readonly maxEntries: number;
  private readonly verifyEvery: number;
  private hitsSinceVerify = 0;
  /** Why the cache was turned off, once it was. */
  disabledBecause: string | undefined;
  readonly stats = { hits: 0, misses: 0, verified: 0 };

  constructor(opts: DecisionCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.verifyEvery = opts.verifyEvery ?? 1_000;
  }

  /** The cache key of a request; its fields are written in a fixed order by the engine. */
  static keyOf(request: cedar.StatefulAuthorizationCall): string {
    return JSON.stringify([request.principal, request.action, request.resource, request.context, request.entities]);
  }

  lookup(key: string): CacheLookup {
    if (this.disabledBecause) return { hit: undefined, verify: false };
    const hit = this.entries.get(key);
    if (!hit) {
      this.stats.misses++;
      return { hit: undefined, verify: false };
    }
    // Refresh recency: a Map iterates in insertion order, so re-inserting moves it last.
    this.entries.delete(key);
    this.entries.set(key, hit);
    this.stats.hits++;
    const verify = this.verifyEvery > 0 && ++this.hitsSinceVerify >= this.verifyEvery;
    if (verify) this.hitsSinceVerify = 0;
    return { hit, verify };
  }

  store(key: string, answer: CachedAnswer): void {
    if (this.disabledBecause) return;
    this.entries.set(key, { decision: answer.decision, determining: [...answer.determining] });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Compares a hit with Cedar's fresh answer; on any difference the cache is cleared and off. */
  confirm(cached: CachedAnswer, fresh: CachedAnswer): boolean {
    this.stats.verified++;
    if (sameAnswer(cached, fresh)) return true;
    this.disabledBecause = `cached ${cached.decision} (${cached.determining.join(', ')}) differs from Cedar's ${fresh.decision} (${fresh.determining.join(', ')})`;
    this.entries.clear();
    return false;
  }

  get size(): number {
    return this.entries.size;
  }
}

export function sameAnswer(a: CachedAnswer, b: CachedAnswer): boolean {
  return (
    a.decision === b.decision && a.determining.length === b.determining.length && a.determining.every((p, i) => p === b.determining[i])
  );
}
