import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { digestJson } from '../signing/index.js';
import type { DecisionRecord, EnforcementMode } from '../audit/index.js';
import { RateLimiter, type RateLimit } from './breakers.js';
import type { DecisionSink } from './decide.js';

/**
 * The tenant, agent and principal of a request refused before identity was established. Real
 * ids are normalised (`[a-z0-9-]`, see identity.ts), so this can never name a real tenant:
 * `charter audit export --tenant T` never carries it, and `query --tenant '(unauthenticated)'`
 * finds every such refusal. Claims of an unverified token are not trusted even to label the
 * record: an attacker could otherwise write into a victim tenant's trail.
 */
export const UNAUTHENTICATED = '(unauthenticated)';

/** One record a second at most, after a burst of 20: a flood cannot grow the trail faster. */
export const DEFAULT_REFUSAL_RATE: RateLimit = { perSecond: 1, burst: 20 };

/**
 * Records requests refused with 401 as deny decisions without a verified tenant. Recording is
 * rate-limited, globally rather than per source (sources are cheap to vary): refusals over the
 * rate are counted, and the count rides on the next record written, or on `flush()` when the
 * server stops, so the trail shows how many there were without one record each.
 */
export class RefusalRecorder {
  private readonly limiter: RateLimiter;
  private unrecorded = 0;
  private unrecordedSince: string | null = null;

  constructor(
    private readonly audit: DecisionSink,
    private readonly mode: EnforcementMode,
    rate: RateLimit = DEFAULT_REFUSAL_RATE,
    now: () => number = Date.now,
  ) {
    this.limiter = new RateLimiter(rate, now);
  }

  /** Records (or counts) one refused request; never throws: the 401 is sent whatever happens here. */
  async refused(why: string, source: string): Promise<void> {
    const t0 = performance.now();
    if (!this.limiter.take(UNAUTHENTICATED)) {
      this.unrecordedSince ??= new Date().toISOString();
      this.unrecorded++;
      return;
    }
    await this.write([`unauthenticated request refused (HTTP 401): ${why}`, `from ${source}`], 1, t0);
  }

  /** Writes the count of refusals not yet reported, if any. */
  async flush(): Promise<void> {
    if (this.unrecorded > 0) await this.write([], 0, performance.now());
  }

  /** `refusals`: how many refused requests the record stands for besides the counted ones. */
  private async write(reasons: string[], refusals: number, t0: number): Promise<void> {
    const carried = this.unrecorded;
    const since = this.unrecordedSince;
    if (carried > 0)
      reasons.push(`${carried} more unauthenticated request(s) refused since ${since}, not recorded one by one (rate limit)`);
    this.unrecorded = 0;
    this.unrecordedSince = null;
    const record: DecisionRecord = {
      kind: 'decision',
      id: uuidv7(),
      time: new Date().toISOString(),
      tenantId: UNAUTHENTICATED,
      agentId: UNAUTHENTICATED,
      principal: UNAUTHENTICATED,
      tool: '(none)',
      traceId: null,
      runId: null,
      manifestDigest: null,
      action: '(none)',
      resource: '(none)',
      tier: null,
      // No MCP message is read before authentication: the decision covered no arguments.
      argsDigest: digestJson({}),
      decision: 'deny',
      mode: this.mode,
      determiningPolicies: [],
      reasons,
      errors: [],
      approvals: [],
      latencyMs: performance.now() - t0,
    };
    try {
      await this.audit.append(record);
    } catch {
      // The request is refused either way; what the record stood for is counted again.
      this.unrecorded += carried + refusals;
      this.unrecordedSince ??= since ?? record.time;
    }
  }
}
