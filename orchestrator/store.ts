import type { StatementSync } from 'node:sqlite';
import { v7 as uuidv7 } from 'uuid';
import { FindingError, InputError, inTransaction, openSqlite, type SqliteDatabase } from '../common/index.js';
import type { KraljicClassification, LedgerDocumentKind, NegotiationView, QuotedBid } from '../agents/index.js';
import { admissionDecision, type Admission, type SlotPolicy } from './admission.js';
import { CheckpointConflict } from './errors.js';
import type { RunnerStore } from './runner-store.js';
import type { NegotiationState, NegotiationStatus } from './state.js';

/**
 * The orchestrator's durable state (embedded default: SQLite; at scale the same keys map onto
 * DynamoDB). Every row is keyed by tenant first: negotiations and checkpoints by
 * `tenant_id#negotiation_id`, bids and documents by (tenant, idempotency key), cache entries
 * by (tenant, key). A lookup with another tenant's id finds nothing.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS negotiations (
  pk TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, negotiation_id TEXT NOT NULL,
  status TEXT NOT NULL, next_node TEXT, version INTEGER NOT NULL, state TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  -- written by the procurement tools, never by a checkpoint:
  classification TEXT, round INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS negotiations_tenant_status ON negotiations(tenant_id, status);
CREATE TABLE IF NOT EXISTS checkpoints (
  pk TEXT NOT NULL, version INTEGER NOT NULL, node TEXT, status TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (pk, version));
CREATE TABLE IF NOT EXISTS tenant_slots (tenant_id TEXT PRIMARY KEY, reserved INTEGER NOT NULL, max INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bids (
  tenant_id TEXT NOT NULL, idem_key TEXT NOT NULL, negotiation_id TEXT NOT NULL, supplier_id TEXT NOT NULL,
  round INTEGER NOT NULL, bid_id TEXT NOT NULL, bid TEXT NOT NULL, PRIMARY KEY (tenant_id, idem_key));
CREATE UNIQUE INDEX IF NOT EXISTS bids_by_id ON bids(tenant_id, bid_id);
-- A negotiation's bids and documents are read by negotiation (bidsOf, documentsOf): without these
-- every read scanned all the tenant's bids or documents, a cost that grew with its history.
CREATE INDEX IF NOT EXISTS bids_by_negotiation ON bids(tenant_id, negotiation_id, round);
CREATE TABLE IF NOT EXISTS documents (
  tenant_id TEXT NOT NULL, idem_key TEXT NOT NULL, negotiation_id TEXT NOT NULL, kind TEXT NOT NULL,
  id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant_id, idem_key));
CREATE INDEX IF NOT EXISTS documents_by_negotiation ON documents(tenant_id, negotiation_id);
CREATE TABLE IF NOT EXISTS kraljic_cache (
  tenant_id TEXT NOT NULL, cache_key TEXT NOT NULL, classification TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, cache_key));
CREATE TABLE IF NOT EXISTS task_tokens (
  tenant_id TEXT NOT NULL, approval_id TEXT NOT NULL, token TEXT NOT NULL, PRIMARY KEY (tenant_id, approval_id));
-- A row per negotiation waiting for an approval, kept by checkpoint() from the state it writes:
-- what the deadline scheduler reads (deadlines live here, not in timers).
CREATE TABLE IF NOT EXISTS approval_waits (
  pk TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, negotiation_id TEXT NOT NULL, approval_id TEXT NOT NULL,
  deadline_at INTEGER NOT NULL, remind_at INTEGER, reminded_at INTEGER);
-- Who runs a negotiation: the owner renews expires_at while it runs (heartbeat); a lease past
-- expires_at names a runner that died, and another runner may take it over.
CREATE TABLE IF NOT EXISTS leases (pk TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS leases_owner ON leases(owner);
CREATE TABLE IF NOT EXISTS costs (
  tenant_id TEXT NOT NULL, negotiation_id TEXT NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL, month TEXT NOT NULL,
  invocations INTEGER NOT NULL, model_calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  tool_calls INTEGER NOT NULL,
  -- millionths of the price table's currency; NULL once any call of the row had no price
  cost_micros INTEGER,
  PRIMARY KEY (tenant_id, negotiation_id, agent, model, month));
`;

/**
 * Stores written before costs had a month and an amount: their rows are kept, booked to the
 * month the negotiation was created in, unpriced.
 */
const COSTS_BY_MONTH = `
ALTER TABLE costs RENAME TO costs_unpriced;
${SCHEMA.slice(SCHEMA.indexOf('CREATE TABLE IF NOT EXISTS costs'))}
INSERT INTO costs SELECT c.tenant_id, c.negotiation_id, c.agent, c.model, COALESCE(substr(n.created_at, 1, 7), ''), c.invocations,
  c.model_calls, c.input_tokens, c.output_tokens, c.tool_calls, CASE WHEN c.model_calls = 0 THEN 0 END
  FROM costs_unpriced c LEFT JOIN negotiations n ON n.pk = c.tenant_id || '#' || c.negotiation_id;
DROP TABLE costs_unpriced;
`;

export function negotiationKey(tenantId: string, negotiationId: string): string {
  return `${tenantId}#${negotiationId}`;
}

/** A negotiation waiting for an approval: its deadline and reminder, as epoch milliseconds. */
export interface ApprovalWait {
  tenantId: string;
  negotiationId: string;
  approvalId: string;
  deadlineAt: number;
  remindAt: number | null;
  remindedAt: number | null;
}

/** A lease on a negotiation (the runner that owns it and until when). */
export interface Lease {
  tenantId: string;
  negotiationId: string;
  owner: string;
  expiresAt: number;
}

export interface CostRow {
  tenantId: string;
  negotiationId: string;
  agent: string;
  model: string;
  /** The UTC month the usage was booked in (YYYY-MM). */
  month: string;
  invocations: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  /** Millionths of the price table's currency; null when a call of the row had no price. */
  costMicros: number | null;
}

interface NegotiationRow {
  pk: string;
  tenant_id: string;
  negotiation_id: string;
  status: NegotiationStatus;
  version: number;
  state: string;
}

/** What the tools wrote on a negotiation row (classification, current round). */
export interface ToolColumns {
  classification: NegotiationView['classification'];
  round: number;
}

/** A negotiation's fields the gateway decides over (see NegotiationStore.entityFacts). */
export interface NegotiationFacts extends ToolColumns {
  status: NegotiationStatus;
  budgetCents: number;
  deliveryRegion: string;
}

export class NegotiationStore implements RunnerStore {
  readonly db: SqliteDatabase;

  constructor(
    readonly file: string,
    /** Negotiations that may be ACTIVE at once across all tenants. */
    readonly capacity = 100,
  ) {
    this.db = openSqlite(file, { busyTimeoutMs: 5000 });
    this.db.exec(SCHEMA);
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('costs')").all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'month')) inTransaction(this.db, () => this.db.exec(COSTS_BY_MONTH));
  }

  close(): void {
    this.db.close();
  }

  /** One process per home: the store is its own synchronous view. */
  get local(): NegotiationStore {
    return this;
  }

  load(tenantId: string, negotiationId: string): NegotiationState | undefined {
    return this.get(tenantId, negotiationId);
  }

  /**
   * Writes a negotiation as another store holds it (DynamoNegotiationStore keeps its runner's
   * copy here): the record at that version with the tools' columns, and its approval wait.
   */
  put(state: NegotiationState, version: number, cols: ToolColumns, createdAt: string): void {
    const pk = negotiationKey(state.tenantId, state.negotiationId);
    inTransaction(this.db, () => {
      this.sql(
        `INSERT INTO negotiations (pk, tenant_id, negotiation_id, status, next_node, version, state, created_at, updated_at, classification, round)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(pk) DO UPDATE SET status = excluded.status, next_node = excluded.next_node, version = excluded.version,
             state = excluded.state, updated_at = excluded.updated_at, classification = excluded.classification, round = excluded.round`,
      ).run(
        pk,
        state.tenantId,
        state.negotiationId,
        state.status,
        state.nextNode,
        version,
        JSON.stringify(state),
        createdAt,
        new Date().toISOString(),
        cols.classification ? JSON.stringify(cols.classification) : null,
        cols.round,
      );
      this.keepApprovalWait(pk, state);
    });
  }

  private readonly statements = new Map<string, StatementSync>();

  /** The statement for `text`, prepared once per store: preparing costs more than most of these queries. */
  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  /** Creates the DRAFT record; a repeated submit of the same negotiation returns the stored one. */
  createDraft(state: NegotiationState): NegotiationState {
    const pk = negotiationKey(state.tenantId, state.negotiationId);
    const now = new Date().toISOString();
    this.sql(
      'INSERT INTO negotiations (pk, tenant_id, negotiation_id, status, next_node, version, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT(pk) DO NOTHING',
    ).run(pk, state.tenantId, state.negotiationId, state.status, state.nextNode, JSON.stringify(state), now, now);
    return this.get(state.tenantId, state.negotiationId)!;
  }

  /** The negotiation of this tenant, or undefined (another tenant's id finds nothing). */
  get(tenantId: string, negotiationId: string): NegotiationState | undefined {
    const row = this.sql('SELECT * FROM negotiations WHERE pk = ?').get(negotiationKey(tenantId, negotiationId)) as
      NegotiationRow | undefined;
    if (!row) return undefined;
    const state = JSON.parse(row.state) as NegotiationState;
    // Defence in depth: the key and the record must agree on the tenant.
    if (state.tenantId !== tenantId || row.tenant_id !== tenantId)
      throw new FindingError(`negotiation ${row.pk} holds state of tenant '${state.tenantId}'`);
    return state;
  }

  /**
   * What the gateway's negotiation entity holds, in one statement: the state's requisition fields
   * read by SQLite instead of parsing the whole state (bids, pools, history) at every decision.
   * The same tenant check as `get`.
   */
  entityFacts(tenantId: string, negotiationId: string): NegotiationFacts | undefined {
    const row = this.sql(
      "SELECT pk, tenant_id, status, json_extract(state, '$.tenantId') AS state_tenant, json_extract(state, '$.requisition.budgetCents') AS budget_cents, json_extract(state, '$.requisition.deliveryRegion') AS delivery_region, classification, round FROM negotiations WHERE pk = ?",
    ).get(negotiationKey(tenantId, negotiationId)) as
      | {
          pk: string;
          tenant_id: string;
          status: NegotiationStatus;
          state_tenant: unknown;
          budget_cents: number;
          delivery_region: string;
          classification: string | null;
          round: number;
        }
      | undefined;
    if (!row) return undefined;
    if (row.state_tenant !== tenantId || row.tenant_id !== tenantId)
      throw new FindingError(`negotiation ${row.pk} holds state of tenant '${String(row.state_tenant)}'`);
    return {
      status: row.status,
      budgetCents: row.budget_cents,
      deliveryRegion: row.delivery_region,
      classification: row.classification ? (JSON.parse(row.classification) as ToolColumns['classification']) : null,
      round: row.round,
    };
  }

  toolColumns(tenantId: string, negotiationId: string): ToolColumns | undefined {
    const row = this.sql('SELECT classification, round FROM negotiations WHERE pk = ?').get(negotiationKey(tenantId, negotiationId)) as
      { classification: string | null; round: number } | undefined;
    return row
      ? { classification: row.classification ? (JSON.parse(row.classification) as ToolColumns['classification']) : null, round: row.round }
      : undefined;
  }

  setClassification(tenantId: string, negotiationId: string, c: NonNullable<ToolColumns['classification']>): void {
    this.sql('UPDATE negotiations SET classification = ? WHERE pk = ?').run(JSON.stringify(c), negotiationKey(tenantId, negotiationId));
  }

  /** Moves the current round forward, never back (a replayed open of an old round changes nothing). */
  openRound(tenantId: string, negotiationId: string, round: number): void {
    this.sql('UPDATE negotiations SET round = MAX(round, ?) WHERE pk = ?').run(round, negotiationKey(tenantId, negotiationId));
  }

  version(tenantId: string, negotiationId: string): number {
    const row = this.sql('SELECT version FROM negotiations WHERE pk = ?').get(negotiationKey(tenantId, negotiationId)) as
      { version: number } | undefined;
    if (!row) throw new InputError(`no negotiation ${negotiationId} for tenant ${tenantId}`, { field: 'negotiationId' });
    return row.version;
  }

  list(filter: { tenantId?: string; status?: NegotiationStatus } = {}): NegotiationState[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.tenantId) {
      where.push('tenant_id = ?');
      args.push(filter.tenantId);
    }
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    const rows = this.sql(
      `SELECT state FROM negotiations ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, pk`,
    ).all(...args) as Array<{ state: string }>;
    return rows.map((r) => JSON.parse(r.state) as NegotiationState);
  }

  /**
   * Checkpoint: writes the state after a node, conditional on the version the node started
   * from (a second writer, or a resume against other state, fails the condition instead of
   * overwriting), and keeps the checkpoint in the history.
   */
  checkpoint(state: NegotiationState, expectedVersion: number, node: string | null): number {
    const pk = negotiationKey(state.tenantId, state.negotiationId);
    const now = new Date().toISOString();
    const json = JSON.stringify(state);
    return inTransaction(this.db, () => {
      const res = this.sql(
        'UPDATE negotiations SET status = ?, next_node = ?, version = version + 1, state = ?, updated_at = ? WHERE pk = ? AND version = ? AND tenant_id = ?',
      ).run(state.status, state.nextNode, json, now, pk, expectedVersion, state.tenantId);
      if (res.changes !== 1) throw new CheckpointConflict(pk, expectedVersion);
      this.sql('INSERT INTO checkpoints (pk, version, node, status, state, at) VALUES (?, ?, ?, ?, ?, ?)').run(
        pk,
        expectedVersion + 1,
        node,
        state.status,
        json,
        now,
      );
      this.keepApprovalWait(pk, state);
      return expectedVersion + 1;
    });
  }

  /** The approval_waits row follows the state: present exactly while it waits for a pending approval. */
  private keepApprovalWait(pk: string, state: NegotiationState): void {
    const a = state.approval;
    if (state.status !== 'AWAITING_APPROVAL' || a?.status !== 'pending' || !a.approvalId || !a.deadline) {
      this.sql('DELETE FROM approval_waits WHERE pk = ?').run(pk);
      return;
    }
    this.sql(
      `INSERT INTO approval_waits (pk, tenant_id, negotiation_id, approval_id, deadline_at, remind_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(pk) DO UPDATE SET deadline_at = excluded.deadline_at, remind_at = excluded.remind_at,
           reminded_at = CASE WHEN approval_id = excluded.approval_id THEN reminded_at END, approval_id = excluded.approval_id`,
    ).run(pk, state.tenantId, state.negotiationId, a.approvalId, Date.parse(a.deadline), a.remindAt ? Date.parse(a.remindAt) : null);
  }

  /** Every negotiation waiting for an approval, soonest deadline first. */
  approvalWaits(): ApprovalWait[] {
    return this.sql(
      `SELECT tenant_id AS tenantId, negotiation_id AS negotiationId, approval_id AS approvalId, deadline_at AS deadlineAt,
         remind_at AS remindAt, reminded_at AS remindedAt FROM approval_waits ORDER BY deadline_at, pk`,
    ).all() as unknown as ApprovalWait[];
  }

  /** Records that the reminder of this wait went out (once per approval). */
  markReminded(tenantId: string, negotiationId: string, approvalId: string, at: number): void {
    this.sql('UPDATE approval_waits SET reminded_at = ? WHERE pk = ? AND approval_id = ?').run(
      at,
      negotiationKey(tenantId, negotiationId),
      approvalId,
    );
  }

  // Leases: which runner runs a negotiation. The lease says who should run it; the version
  // condition of checkpoint() is what keeps two runners from both writing it.

  /** Takes the lease when it is free, expired or already `owner`'s; false when another live runner holds it. */
  acquireLease(tenantId: string, negotiationId: string, owner: string, ttlMs: number, now: number): boolean {
    const res = this.sql(
      `INSERT INTO leases (pk, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT(pk) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE leases.expires_at <= ? OR leases.owner = excluded.owner`,
    ).run(negotiationKey(tenantId, negotiationId), owner, now + ttlMs, now);
    return res.changes === 1;
  }

  /** The heartbeat: extends every lease `owner` still holds; returns how many. */
  renewLeases(owner: string, ttlMs: number, now: number): number {
    return Number(this.sql('UPDATE leases SET expires_at = ? WHERE owner = ?').run(now + ttlMs, owner).changes);
  }

  releaseLease(tenantId: string, negotiationId: string, owner: string): void {
    this.sql('DELETE FROM leases WHERE pk = ? AND owner = ?').run(negotiationKey(tenantId, negotiationId), owner);
  }

  /** Leases past their expiry: their runner stopped renewing them (it died, or lost the store). */
  expiredLeases(now: number): Lease[] {
    const rows = this.sql('SELECT pk, owner, expires_at AS expiresAt FROM leases WHERE expires_at <= ? ORDER BY expires_at').all(
      now,
    ) as Array<{
      pk: string;
      owner: string;
      expiresAt: number;
    }>;
    return rows.map(({ pk, owner, expiresAt }) => {
      const cut = pk.indexOf('#');
      return { tenantId: pk.slice(0, cut), negotiationId: pk.slice(cut + 1), owner, expiresAt };
    });
  }

  /**
   * Admission control (node 1): the decision (admissionDecision) and the DRAFT -> ACTIVE write
   * commit in one immediate transaction, so two concurrent admissions cannot both take the last slot.
   */
  admit(state: NegotiationState, policy: SlotPolicy, expectedVersion: number): Admission {
    return inTransaction(this.db, (): Admission => {
      this.sql(
        'INSERT INTO tenant_slots (tenant_id, reserved, max) VALUES (?, ?, ?) ON CONFLICT(tenant_id) DO UPDATE SET reserved = excluded.reserved, max = excluded.max',
      ).run(state.tenantId, policy.reservedSlots, policy.maxSlots);
      const { reservedTotal } = this.sql('SELECT COALESCE(SUM(reserved), 0) AS reservedTotal FROM tenant_slots').get() as {
        reservedTotal: number;
      };
      const { sharedInUse } = this.sql(
        "SELECT COALESCE(SUM(MAX(0, n - reserved)), 0) AS sharedInUse FROM (SELECT s.reserved AS reserved, (SELECT COUNT(*) FROM negotiations g WHERE g.tenant_id = s.tenant_id AND g.status = 'ACTIVE') AS n FROM tenant_slots s)",
      ).get() as { sharedInUse: number };
      const admission = admissionDecision(
        state.tenantId,
        { mine: this.activeCount(state.tenantId), reservedTotal, sharedInUse },
        policy,
        this.capacity,
      );
      if (admission.admitted) this.checkpoint({ ...state, status: 'ACTIVE' }, expectedVersion, 'ingest');
      return admission;
    });
  }

  /** Active negotiations of a tenant (admission accounting, tests). */
  activeCount(tenantId: string): number {
    return (this.sql("SELECT COUNT(*) AS n FROM negotiations WHERE tenant_id = ? AND status = 'ACTIVE'").get(tenantId) as { n: number }).n;
  }

  // Bids and documents the procurement tools write (see OrchestratorLedger).

  findBid(tenantId: string, key: string): QuotedBid | undefined {
    const row = this.sql('SELECT bid FROM bids WHERE tenant_id = ? AND idem_key = ?').get(tenantId, key) as { bid: string } | undefined;
    return row ? (JSON.parse(row.bid) as QuotedBid) : undefined;
  }

  recordBid(tenantId: string, negotiationId: string, key: string, bid: QuotedBid): { bid: QuotedBid; duplicate: boolean } {
    const res = this.sql(
      'INSERT INTO bids (tenant_id, idem_key, negotiation_id, supplier_id, round, bid_id, bid) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(tenantId, key, negotiationId, bid.supplierId, bid.round, bid.bidId, JSON.stringify(bid));
    return res.changes === 1 ? { bid, duplicate: false } : { bid: this.findBid(tenantId, key)!, duplicate: true };
  }

  bid(tenantId: string, bidId: string): (QuotedBid & { negotiationId: string }) | undefined {
    const row = this.sql('SELECT negotiation_id AS negotiationId, bid FROM bids WHERE tenant_id = ? AND bid_id = ?').get(
      tenantId,
      bidId,
    ) as { negotiationId: string; bid: string } | undefined;
    return row ? { ...(JSON.parse(row.bid) as QuotedBid), negotiationId: row.negotiationId } : undefined;
  }

  bidsOf(tenantId: string, negotiationId: string, round?: number): QuotedBid[] {
    const rows = this.sql(
      `SELECT bid FROM bids WHERE tenant_id = ? AND negotiation_id = ? ${round !== undefined ? 'AND round = ?' : ''} ORDER BY supplier_id, round`,
    ).all(...[tenantId, negotiationId, ...(round !== undefined ? [round] : [])]) as Array<{ bid: string }>;
    return rows.map((r) => JSON.parse(r.bid) as QuotedBid);
  }

  recordDocument(
    tenantId: string,
    negotiationId: string,
    key: string,
    kind: LedgerDocumentKind,
    body: Record<string, unknown>,
    /** The id the document has elsewhere (a copy of another store's record); default: a fresh one. */
    id: string = uuidv7(),
  ): { id: string; duplicate: boolean } {
    const res = this.sql(
      'INSERT INTO documents (tenant_id, idem_key, negotiation_id, kind, id, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(tenantId, key, negotiationId, kind, id, JSON.stringify(body));
    if (res.changes === 1) return { id, duplicate: false };
    const row = this.sql('SELECT id FROM documents WHERE tenant_id = ? AND idem_key = ?').get(tenantId, key) as { id: string };
    return { id: row.id, duplicate: true };
  }

  documentsOf(
    tenantId: string,
    negotiationId: string,
    kind?: LedgerDocumentKind,
  ): Array<{ kind: LedgerDocumentKind; id: string; body: Record<string, unknown> }> {
    const rows = this.sql(
      `SELECT kind, id, body FROM documents WHERE tenant_id = ? AND negotiation_id = ? ${kind ? 'AND kind = ?' : ''} ORDER BY id`,
    ).all(...[tenantId, negotiationId, ...(kind ? [kind] : [])]) as Array<{ kind: LedgerDocumentKind; id: string; body: string }>;
    return rows.map((r) => ({ kind: r.kind, id: r.id, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  // Semantic cache of Kraljic classifications, per tenant (one tenant's answers never serve another).

  cachedClassification(tenantId: string, key: string): KraljicClassification | undefined {
    const row = this.sql('SELECT classification FROM kraljic_cache WHERE tenant_id = ? AND cache_key = ?').get(tenantId, key) as
      { classification: string } | undefined;
    if (!row) return undefined;
    this.sql('UPDATE kraljic_cache SET hits = hits + 1 WHERE tenant_id = ? AND cache_key = ?').run(tenantId, key);
    return JSON.parse(row.classification) as KraljicClassification;
  }

  cacheClassification(tenantId: string, key: string, c: KraljicClassification): void {
    this.sql('INSERT INTO kraljic_cache (tenant_id, cache_key, classification) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
      tenantId,
      key,
      JSON.stringify(c),
    );
  }

  // Step Functions task tokens of approval waits, by the approval request they wait on (a later wait replaces an earlier one).

  recordTaskToken(tenantId: string, approvalId: string, token: string): void {
    this.sql(
      'INSERT INTO task_tokens (tenant_id, approval_id, token) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET token = excluded.token',
    ).run(tenantId, approvalId, token);
  }

  taskToken(tenantId: string, approvalId: string): string | undefined {
    const row = this.sql('SELECT token FROM task_tokens WHERE tenant_id = ? AND approval_id = ?').get(tenantId, approvalId) as
      { token: string } | undefined;
    return row?.token;
  }

  // Cost attribution: tenant x negotiation x agent x model.

  addCost(row: CostRow): void {
    this.sql(
      `INSERT INTO costs (tenant_id, negotiation_id, agent, model, month, invocations, model_calls, input_tokens, output_tokens, tool_calls, cost_micros)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET invocations = invocations + excluded.invocations, model_calls = model_calls + excluded.model_calls,
           input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens, tool_calls = tool_calls + excluded.tool_calls,
           cost_micros = cost_micros + excluded.cost_micros`,
    ).run(
      row.tenantId,
      row.negotiationId,
      row.agent,
      row.model,
      row.month,
      row.invocations,
      row.modelCalls,
      row.inputTokens,
      row.outputTokens,
      row.toolCalls,
      row.costMicros,
    );
  }

  /** Booked usage, by tenant and month (YYYY-MM) when given. */
  costs(filter: { tenantId?: string; month?: string } = {}): CostRow[] {
    const where = [...(filter.tenantId ? ['tenant_id = ?'] : []), ...(filter.month ? ['month = ?'] : [])];
    const rows = this.sql(
      `SELECT tenant_id AS tenantId, negotiation_id AS negotiationId, agent, model, month, invocations, model_calls AS modelCalls, input_tokens AS inputTokens,
           output_tokens AS outputTokens, tool_calls AS toolCalls, cost_micros AS costMicros FROM costs
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY tenant_id, negotiation_id, agent, model, month`,
    ).all(...[filter.tenantId, filter.month].filter((v) => v !== undefined)) as unknown as CostRow[];
    return rows;
  }
}
