import type { LedgerDocumentKind, QuotedBid } from '../agents/index.js';
import type { Admission, SlotPolicy } from './admission.js';
import type { NegotiationState } from './state.js';
import type { ApprovalWait, Lease, NegotiationStore, ToolColumns } from './store.js';

export type Awaitable<T> = T | Promise<T>;

/**
 * The seam between the runner (orchestrator, runtime, procurement tools) and where its
 * coordination state lives: admission, checkpoints, leases and the idempotent bid and document
 * records. NegotiationStore (SQLite, one process per home: the embedded default) answers at once;
 * DynamoNegotiationStore (a table shared by runners on many machines) answers with promises. The
 * runner awaits either, so one copy of the DAG, the admission rule and the lease logic drives both.
 */
export interface RunnerStore {
  /**
   * Synchronous reads for the gateway's entity data and the tools' views of a negotiation: the
   * store itself (SQLite), or this runner's copy of the negotiations it runs (DynamoDB), filled
   * by load() and by every write through this store.
   */
  readonly local: NegotiationStore;
  /** The negotiation as the shared store has it now (undefined: none of this tenant). */
  get(tenantId: string, negotiationId: string): Awaitable<NegotiationState | undefined>;
  /** As get(), and copied into `local` with its bids and documents: before a run, a resume or a takeover. */
  load(tenantId: string, negotiationId: string): Awaitable<NegotiationState | undefined>;
  /** Creates the DRAFT record; a repeated submit of the same negotiation returns the stored one. */
  createDraft(state: NegotiationState): Awaitable<NegotiationState>;
  version(tenantId: string, negotiationId: string): Awaitable<number>;
  /** Admission (admissionDecision) and DRAFT -> ACTIVE as one atomic step. */
  admit(state: NegotiationState, policy: SlotPolicy, expectedVersion: number): Awaitable<Admission>;
  /** Writes the state after a node, conditional on the version the node started from; returns the new version. */
  checkpoint(state: NegotiationState, expectedVersion: number, node: string | null): Awaitable<number>;
  setClassification(tenantId: string, negotiationId: string, c: NonNullable<ToolColumns['classification']>): Awaitable<void>;
  /** Moves the current round forward, never back. */
  openRound(tenantId: string, negotiationId: string, round: number): Awaitable<void>;
  /** Exactly once per idempotency key: a repeated key returns the first bid with `duplicate`. */
  recordBid(tenantId: string, negotiationId: string, key: string, bid: QuotedBid): Awaitable<{ bid: QuotedBid; duplicate: boolean }>;
  /** Exactly once per idempotency key: a repeated key returns the first document's id with `duplicate`. */
  recordDocument(
    tenantId: string,
    negotiationId: string,
    key: string,
    kind: LedgerDocumentKind,
    body: Record<string, unknown>,
  ): Awaitable<{ id: string; duplicate: boolean }>;
  /** Takes the lease when it is free, expired or already `owner`'s; false when another live runner holds it. */
  acquireLease(tenantId: string, negotiationId: string, owner: string, ttlMs: number, now: number): Awaitable<boolean>;
  /** The heartbeat: extends every lease `owner` still holds; returns how many. */
  renewLeases(owner: string, ttlMs: number, now: number): Awaitable<number>;
  releaseLease(tenantId: string, negotiationId: string, owner: string): Awaitable<void>;
  /** Leases past their expiry: their runner stopped renewing them. */
  expiredLeases(now: number): Awaitable<Lease[]>;
  /** Every negotiation waiting for an approval, soonest deadline first. */
  approvalWaits(): Awaitable<ApprovalWait[]>;
  markReminded(tenantId: string, negotiationId: string, approvalId: string, at: number): Awaitable<void>;
  close(): Awaitable<void>;
}
