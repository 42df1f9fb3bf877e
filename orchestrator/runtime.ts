import { hostname } from 'node:os';
import { v7 as uuidv7 } from 'uuid';
import { errorMessage } from '../common/index.js';
import type { ApprovalStore } from '../gateway/index.js';
import { CheckpointConflict } from './errors.js';
import type { Orchestrator } from './orchestrator.js';
import { TERMINAL, type NegotiationState } from './state.js';
import type { RunnerStore } from './runner-store.js';
import { negotiationKey, type ApprovalWait } from './store.js';

/** What a reminder hook is told: the approval, its negotiation, and how long is left. */
export interface ApprovalReminder {
  event: 'approval.reminder';
  tenantId: string;
  negotiationId: string;
  approvalId: string;
  deadline: string;
  remindedAt: string;
  secondsLeft: number;
}

export interface NegotiationRuntimeOptions {
  orchestrator: Orchestrator;
  store: RunnerStore;
  approvals: ApprovalStore;
  /** This runner's name in its leases (default: host, pid and a fresh id). */
  owner?: string;
  /** How long a lease lasts without a heartbeat (default 30 s); the heartbeat renews it every third of that. */
  leaseMs?: number;
  /** The longest the scheduler sleeps between looks at the store (default 5 s): it wakes sooner for a deadline or reminder it knows of. */
  pollMs?: number;
  /** Called for every reminder, after the approver queue was reminded; a throw is retried at the next look. */
  onReminder?: (r: ApprovalReminder) => Promise<void>;
  /** Told what the runtime did by itself (a deadline fired, a lease taken over, a run that failed). */
  log?: (message: string) => void;
  now?: () => number;
}

/** Restarts in a row after a conflicting checkpoint write before the run is given up as failed. */
const MAX_CONFLICT_RESTARTS = 3;

/**
 * The long-running side of the negotiation runtime (`charter negotiations serve`): it runs
 * admitted negotiations in the background, each under a lease in the store renewed by a
 * heartbeat, and a scheduler that reads the store (not timers alone, so a restart loses
 * nothing) and
 * - moves a negotiation on as soon as its approval is decided or its deadline passed (the DAG's
 *   approve node: award, cancel, or REQUIRES_ATTENTION on expiry);
 * - reminds the approver queue and the hooks once, approvalReminderSeconds before a deadline;
 * - takes over the negotiations of a runner whose lease expired and resumes them from their last
 *   checkpoint, which frees the admission slot the dead runner held.
 */
export class NegotiationRuntime {
  readonly owner: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, string>();
  private heartbeat: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private beating: Promise<unknown> | undefined;
  private stopped = true;

  constructor(private readonly opts: NegotiationRuntimeOptions) {
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${uuidv7()}`;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 5_000;
    this.now = opts.now ?? Date.now;
  }

  /** Starts the heartbeat and the scheduler; its first look at the store is now (overdue deadlines fire at once). */
  start(): void {
    this.stopped = false;
    this.heartbeat = setInterval(
      () => {
        // A store that answers late (a network round trip) may not be renewed twice at once.
        if (this.beating) return;
        this.beating = Promise.resolve()
          .then(() => this.opts.store.renewLeases(this.owner, this.leaseMs, this.now()))
          .catch((err: unknown) => this.opts.log?.(`heartbeat: ${errorMessage(err)}`))
          .finally(() => (this.beating = undefined));
      },
      Math.max(50, this.leaseMs / 3),
    );
    this.wake(0);
  }

  /** Stops scheduling, waits for the runs in flight, and gives their leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.idle();
    clearInterval(this.heartbeat);
    await this.beating;
  }

  /** Resolves once no negotiation runs in this runtime. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight.values()]);
  }

  /**
   * Node 1 now (admission: throws AdmissionDenied when the tenant's slots are full), the rest in
   * the background under this runtime's lease. Returns the state as admitted.
   */
  async submit(tenantId: string, raw: unknown): Promise<NegotiationState> {
    const id = (raw as { negotiationId?: unknown } | null)?.negotiationId;
    // The lease is taken before admission, so no admitted negotiation is ever without a runner.
    const leased = typeof id === 'string' && (await this.opts.store.acquireLease(tenantId, id, this.owner, this.leaseMs, this.now()));
    let state: NegotiationState;
    try {
      state = await this.opts.orchestrator.submit(tenantId, raw);
    } catch (err) {
      if (leased) await this.release(tenantId, id);
      throw err;
    }
    if (leased && !this.inflight.has(negotiationKey(tenantId, state.negotiationId))) {
      if (TERMINAL.has(state.status)) await this.release(tenantId, state.negotiationId);
      else this.launch(tenantId, state.negotiationId);
    }
    return state;
  }

  /** Why the last run of a negotiation in this runtime failed, if it did. */
  failure(tenantId: string, negotiationId: string): string | undefined {
    return this.failures.get(negotiationKey(tenantId, negotiationId));
  }

  /** Whether the negotiation is running in this runtime now. */
  isRunning(tenantId: string, negotiationId: string): boolean {
    return this.inflight.has(negotiationKey(tenantId, negotiationId));
  }

  /**
   * Runs a negotiation this runtime holds the lease of; the lease is given back when it ends, waits, or fails.
   * A run refused a checkpoint because another run wrote first (a runner that stalled past its
   * lease and woke up, or the other side of a raced admission) starts again from the newest
   * checkpoint while this runtime can still take the lease: given back instead, the
   * negotiation would stay ACTIVE with no lease for any runner to find.
   */
  private launch(tenantId: string, negotiationId: string, conflicts = 0): void {
    const key = negotiationKey(tenantId, negotiationId);
    this.failures.delete(key);
    let conflicted = false;
    const run = this.opts.orchestrator
      .run(tenantId, negotiationId)
      .then(
        () => undefined,
        (err: unknown) => {
          conflicted = err instanceof CheckpointConflict && conflicts < MAX_CONFLICT_RESTARTS;
          // A run that failed stays where its last checkpoint left it, as after `resume` fails.
          this.failures.set(key, errorMessage(err));
          this.opts.log?.(`${key}: run failed: ${errorMessage(err)}`);
        },
      )
      .finally(async () => {
        if (conflicted && !this.stopped && (await this.retake(tenantId, negotiationId))) {
          this.opts.log?.(`${key}: resuming from its newest checkpoint after the conflicting write`);
          this.inflight.delete(key);
          this.launch(tenantId, negotiationId, conflicts + 1);
          return;
        }
        try {
          await this.release(tenantId, negotiationId);
        } catch (err) {
          // Not given back, the lease expires by itself.
          this.opts.log?.(`${key}: lease not released: ${errorMessage(err)}`);
        }
        this.inflight.delete(key);
      });
    this.inflight.set(key, run);
  }

  /** Whether this runtime still holds (or can take again) the lease: false when another live runner holds it. */
  private async retake(tenantId: string, negotiationId: string): Promise<boolean> {
    try {
      return await this.opts.store.acquireLease(tenantId, negotiationId, this.owner, this.leaseMs, this.now());
    } catch (err) {
      this.opts.log?.(`${negotiationKey(tenantId, negotiationId)}: lease not read again: ${errorMessage(err)}`);
      return false;
    }
  }

  private async release(tenantId: string, negotiationId: string): Promise<void> {
    await this.opts.store.releaseLease(tenantId, negotiationId, this.owner);
  }

  /** Takes the lease if no live runner holds it and runs the negotiation; false when it is someone else's. */
  private async take(tenantId: string, negotiationId: string): Promise<boolean> {
    if (this.inflight.has(negotiationKey(tenantId, negotiationId))) return false;
    if (!(await this.opts.store.acquireLease(tenantId, negotiationId, this.owner, this.leaseMs, this.now()))) return false;
    // Launched while the lease was being asked for (a submit of this runtime): it runs once.
    if (this.inflight.has(negotiationKey(tenantId, negotiationId))) return false;
    this.launch(tenantId, negotiationId);
    return true;
  }

  private wake(inMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.opts.log?.(`scheduler: ${errorMessage(err)}`))
        .finally(() => (this.ticking = undefined));
    }, inMs);
  }

  /** One look at the store: decided or expired approvals, reminders due, expired leases. Then sleeps until the next event it knows of. */
  async tick(): Promise<void> {
    const now = this.now();
    let next = now + this.pollMs;
    for (const w of await this.opts.store.approvalWaits()) {
      const status = this.approvalStatus(w, now);
      if (status === 'pending') {
        if (w.remindAt !== null && w.remindedAt === null) {
          if (w.remindAt <= now) await this.remind(w, now);
          else next = Math.min(next, w.remindAt);
        }
        next = Math.min(next, w.deadlineAt);
      } else if (status !== undefined && (await this.take(w.tenantId, w.negotiationId))) {
        this.opts.log?.(`${w.tenantId}/${w.negotiationId}: approval ${w.approvalId} ${status}, moving on`);
      }
    }
    for (const lease of await this.opts.store.expiredLeases(now)) {
      if (lease.owner === this.owner) continue;
      const state = await this.opts.store.load(lease.tenantId, lease.negotiationId);
      if (!state || TERMINAL.has(state.status) || state.status === 'DRAFT') {
        // Nothing left to run (it ended, or was never admitted): the stale lease just goes.
        if (await this.opts.store.acquireLease(lease.tenantId, lease.negotiationId, this.owner, this.leaseMs, now))
          await this.release(lease.tenantId, lease.negotiationId);
      } else if (await this.take(lease.tenantId, lease.negotiationId)) {
        this.opts.log?.(`${lease.tenantId}/${lease.negotiationId}: took over from ${lease.owner} (lease expired), resuming`);
      }
    }
    this.wake(Math.max(0, next - this.now()));
  }

  /** The approval's status at `now` (expiry included); undefined, with a log line, when it cannot be read. */
  private approvalStatus(w: ApprovalWait, now: number): string | undefined {
    if (w.deadlineAt <= now) return 'expired';
    try {
      return this.opts.approvals.get(w.approvalId, now).status;
    } catch (err) {
      this.opts.log?.(`${w.tenantId}/${w.negotiationId}: approval ${w.approvalId}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  private async remind(w: ApprovalWait, now: number): Promise<void> {
    const reminder: ApprovalReminder = {
      event: 'approval.reminder',
      tenantId: w.tenantId,
      negotiationId: w.negotiationId,
      approvalId: w.approvalId,
      deadline: new Date(w.deadlineAt).toISOString(),
      remindedAt: new Date(now).toISOString(),
      secondsLeft: Math.round((w.deadlineAt - now) / 1000),
    };
    try {
      this.opts.approvals.remind(w.approvalId, now);
      await this.opts.onReminder?.(reminder);
      await this.opts.store.markReminded(w.tenantId, w.negotiationId, w.approvalId, now);
      this.opts.log?.(`${w.tenantId}/${w.negotiationId}: reminded the approvers of ${w.approvalId} (${reminder.secondsLeft} s left)`);
    } catch (err) {
      this.opts.log?.(
        `${w.tenantId}/${w.negotiationId}: reminder of ${w.approvalId} failed, retried at the next look: ${errorMessage(err)}`,
      );
    }
  }
}
