import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { v7 as uuidv7 } from 'uuid';
import { FindingError, InputError } from '../common/index.js';
import type { LedgerDocumentKind, QuotedBid } from '../agents/index.js';
import { admissionDecision, type Admission, type SlotPolicy } from './admission.js';
import { CheckpointConflict } from './errors.js';
import type { RunnerStore } from './runner-store.js';
import type { NegotiationState } from './state.js';
import { negotiationKey, type ApprovalWait, type Lease, type NegotiationStore, type ToolColumns } from './store.js';

export interface DynamoStoreOptions {
  /**
   * Table name prefix: the store uses `<prefix>-negotiations` and `<prefix>-idempotency`, as
   * `charter release terraform` declares them (`charter-<env>-...`, keys `pk`/`sk`, TTL `expiresAt`).
   */
  tables: string;
  /** The DynamoDB endpoint (default: the SDK's, from the region or AWS_ENDPOINT_URL_DYNAMODB). */
  endpoint?: string;
  region?: string;
  /** The tenants this runner looks after: their expired leases and approval waits are read per tenant. */
  tenants: string[];
  /** Negotiations that may be ACTIVE at once across all tenants (admission's shared pool). */
  capacity: number;
  /** How long bid and document idempotency records live (their TTL attribute); default 90 days. */
  idempotencyTtlSeconds?: number;
  /** SDK client settings beyond endpoint and region (credentials, retries); tests pass a client. */
  client?: DynamoDBClient;
}

/**
 * The two tables, as the store reads and writes them and as `charter release terraform` declares
 * them (it builds its aws_dynamodb_table resources from this): string keys `pk`/`sk`, and the
 * idempotency table's TTL attribute (epoch seconds).
 */
const TTL_ATTRIBUTE = 'expiresAt';
export const STORE_TABLES = {
  names: ['negotiations', 'idempotency'] as const,
  hashKey: 'pk',
  rangeKey: 'sk',
  ttl: { idempotency: TTL_ATTRIBUTE } as Record<string, string>,
  /** The IAM actions a runner's store sends (the Terraform role grants exactly these; a test checks what is sent). */
  actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'] as const,
} as const;

/** Items of the negotiations table (pk, sk). */
const NEGOTIATION = 'negotiation';
const checkpointSk = (version: number) => `checkpoint#${String(version).padStart(10, '0')}`;
const leaseSk = (negotiationId: string) => `lease#${negotiationId}`;
const waitSk = (negotiationId: string) => `wait#${negotiationId}`;
/** The one admission item: every tenant's reservation and the negotiations holding a slot. */
const SLOTS = { pk: '*', sk: 'admission' } as const;
const ATTEMPTS = 50;

interface NegotiationItem {
  pk: string;
  sk: string;
  tenant_id: string;
  negotiation_id: string;
  status: NegotiationState['status'];
  next_node: string | null;
  version: number;
  state: string;
  created_at: string;
  updated_at: string;
  classification?: string | null;
  round?: number;
}

interface SlotsItem {
  rev: number;
  /** tenant -> its reserved slots, as its last admission stated them */
  reserved: Record<string, number>;
  /** `tenant_id#negotiation_id` -> tenant, for every negotiation holding a slot */
  holders: Record<string, string>;
}

function conditionFailed(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write: true when it was written, false when its condition did not hold. */
async function written(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (conditionFailed(err)) return false;
    throw err;
  }
}

/** Tables as Terraform declares them, for a local server (dynalite in tests; it has no TTL API: Terraform turns TTL on). */
export async function createStoreTables(client: DynamoDBClient, prefix: string): Promise<void> {
  for (const name of STORE_TABLES.names)
    await client.send(
      new CreateTableCommand({
        TableName: `${prefix}-${name}`,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: STORE_TABLES.hashKey, KeyType: 'HASH' },
          { AttributeName: STORE_TABLES.rangeKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: STORE_TABLES.hashKey, AttributeType: 'S' },
          { AttributeName: STORE_TABLES.rangeKey, AttributeType: 'S' },
        ],
      }),
    );
}

/**
 * The negotiation store on DynamoDB, shared by runners on many machines. Every write that two
 * runners could race on is one conditional single-item write (DynamoDB transactions are not
 * used, so it runs on servers without them):
 * - the negotiation record (`tenant_id#negotiation_id`, sk `negotiation`) moves only from the
 *   version a node started from (a stale checkpoint is refused), with a history item per version;
 * - admission reads the slot item, decides with admissionDecision, and writes the slot back only
 *   if no other runner changed it meanwhile (revision number), else reads and decides again;
 * - a lease (`tenant_id`, sk `lease#negotiation_id`) is taken only when free, expired or its own,
 *   renewed by the heartbeat only while still its own;
 * - a bid or document (idempotency table, `tenant_id#negotiation_id`, sk by idempotency key, TTL
 *   `expiresAt`) is written only if its key is new: a second writer gets the first record back.
 * Reads the gateway and tools make synchronously come from `local`, this runner's copy of the
 * negotiations it runs (load() fills it before a run; every write here is copied into it).
 */
export class DynamoNegotiationStore implements RunnerStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly client: DynamoDBClient;
  private readonly negotiations: string;
  private readonly idempotency: string;
  private readonly ttlSeconds: number;
  /** Leases taken through this store, by owner: what the heartbeat renews. */
  private readonly held = new Map<string, Set<string>>();

  constructor(
    private readonly opts: DynamoStoreOptions,
    readonly local: NegotiationStore,
  ) {
    const config: DynamoDBClientConfig = {
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.region ? { region: opts.region } : {}),
    };
    this.client = opts.client ?? new DynamoDBClient(config);
    this.doc = DynamoDBDocumentClient.from(this.client, { marshallOptions: { removeUndefinedValues: true } });
    this.negotiations = `${opts.tables}-negotiations`;
    this.idempotency = `${opts.tables}-idempotency`;
    this.ttlSeconds = opts.idempotencyTtlSeconds ?? 90 * 24 * 3600;
  }

  close(): void {
    if (!this.opts.client) this.client.destroy();
  }

  private async item(tenantId: string, negotiationId: string): Promise<NegotiationItem | undefined> {
    const pk = negotiationKey(tenantId, negotiationId);
    const res = await this.doc.send(new GetCommand({ TableName: this.negotiations, Key: { pk, sk: NEGOTIATION }, ConsistentRead: true }));
    const item = res.Item as NegotiationItem | undefined;
    if (!item) return undefined;
    const state = JSON.parse(item.state) as NegotiationState;
    // Defence in depth: the key and the record must agree on the tenant.
    if (state.tenantId !== tenantId || item.tenant_id !== tenantId)
      throw new FindingError(`negotiation ${pk} holds state of tenant '${state.tenantId}'`);
    return item;
  }

  private copy(item: NegotiationItem): NegotiationState {
    const state = JSON.parse(item.state) as NegotiationState;
    const classification = item.classification ? (JSON.parse(item.classification) as ToolColumns['classification']) : null;
    this.local.put(state, item.version, { classification, round: item.round ?? 0 }, item.created_at);
    return state;
  }

  async get(tenantId: string, negotiationId: string): Promise<NegotiationState | undefined> {
    const item = await this.item(tenantId, negotiationId);
    return item ? (JSON.parse(item.state) as NegotiationState) : undefined;
  }

  async load(tenantId: string, negotiationId: string): Promise<NegotiationState | undefined> {
    const item = await this.item(tenantId, negotiationId);
    if (!item) return undefined;
    const pk = negotiationKey(tenantId, negotiationId);
    for (const r of await this.query({
      TableName: this.idempotency,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    })) {
      if (typeof r.bid === 'string')
        this.local.recordBid(tenantId, negotiationId, (r.sk as string).slice(4), JSON.parse(r.bid) as QuotedBid);
      else
        this.local.recordDocument(
          tenantId,
          negotiationId,
          (r.sk as string).slice(4),
          r.kind as LedgerDocumentKind,
          JSON.parse(r.body as string) as Record<string, unknown>,
          r.id as string,
        );
    }
    return this.copy(item);
  }

  private async query(input: QueryCommandInput): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(new QueryCommand({ ...input, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...((res.Items ?? []) as Array<Record<string, unknown>>));
      start = res.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async createDraft(state: NegotiationState): Promise<NegotiationState> {
    const now = new Date().toISOString();
    const item: NegotiationItem = {
      pk: negotiationKey(state.tenantId, state.negotiationId),
      sk: NEGOTIATION,
      tenant_id: state.tenantId,
      negotiation_id: state.negotiationId,
      status: state.status,
      next_node: state.nextNode,
      version: 0,
      state: JSON.stringify(state),
      created_at: now,
      updated_at: now,
      round: 0,
    };
    await written(() =>
      this.doc.send(new PutCommand({ TableName: this.negotiations, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    return (await this.load(state.tenantId, state.negotiationId))!;
  }

  async version(tenantId: string, negotiationId: string): Promise<number> {
    const item = await this.item(tenantId, negotiationId);
    if (!item) throw new InputError(`no negotiation ${negotiationId} for tenant ${tenantId}`, { field: 'negotiationId' });
    return item.version;
  }

  checkpoint(state: NegotiationState, expectedVersion: number, node: string | null): Promise<number> {
    return this.write(state, expectedVersion, node, false);
  }

  /**
   * The checkpoint: the record moves from `expectedVersion` or not at all; then its history item,
   * the slot it holds while ACTIVE (unless admission took it already) and its approval wait follow.
   */
  private async write(state: NegotiationState, expectedVersion: number, node: string | null, slotTaken: boolean): Promise<number> {
    const pk = negotiationKey(state.tenantId, state.negotiationId);
    const now = new Date().toISOString();
    const json = JSON.stringify(state);
    const version = expectedVersion + 1;
    let old: NegotiationItem;
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.negotiations,
          Key: { pk, sk: NEGOTIATION },
          UpdateExpression: 'SET #status = :status, next_node = :next, version = :version, #state = :state, updated_at = :now',
          ConditionExpression: 'version = :expected AND tenant_id = :tenant',
          ExpressionAttributeNames: { '#status': 'status', '#state': 'state' },
          ExpressionAttributeValues: {
            ':status': state.status,
            ':next': state.nextNode,
            ':version': version,
            ':state': json,
            ':now': now,
            ':expected': expectedVersion,
            ':tenant': state.tenantId,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      old = res.Attributes as NegotiationItem;
    } catch (err) {
      if (conditionFailed(err)) throw new CheckpointConflict(pk, expectedVersion);
      throw err;
    }
    await this.doc.send(
      new PutCommand({
        TableName: this.negotiations,
        Item: { pk, sk: checkpointSk(version), node, status: state.status, state: json, at: now },
      }),
    );
    if (old.status === 'ACTIVE' && state.status !== 'ACTIVE') await this.freeSlot(pk);
    else if (state.status === 'ACTIVE' && old.status !== 'ACTIVE' && !slotTaken) await this.holdSlot(pk, state.tenantId);
    await this.keepApprovalWait(state, old.status);
    this.copy({ ...old, status: state.status, next_node: state.nextNode, version, state: json, updated_at: now });
    return version;
  }

  /** The approval-wait item follows the state: present exactly while it waits for a pending approval. */
  private async keepApprovalWait(state: NegotiationState, oldStatus: string): Promise<void> {
    const key = { pk: state.tenantId, sk: waitSk(state.negotiationId) };
    const a = state.approval;
    if (state.status !== 'AWAITING_APPROVAL' || a?.status !== 'pending' || !a.approvalId || !a.deadline) {
      if (oldStatus === 'AWAITING_APPROVAL') await this.doc.send(new DeleteCommand({ TableName: this.negotiations, Key: key }));
      return;
    }
    const wait = {
      negotiation_id: state.negotiationId,
      approval_id: a.approvalId,
      deadline_at: Date.parse(a.deadline),
      remind_at: a.remindAt ? Date.parse(a.remindAt) : null,
    };
    // The same approval keeps its reminded_at; another one starts without.
    const kept = await written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.negotiations,
          Key: key,
          UpdateExpression: 'SET negotiation_id = :n, approval_id = :a, deadline_at = :d, remind_at = :r',
          ConditionExpression: 'attribute_not_exists(pk) OR approval_id = :a',
          ExpressionAttributeValues: { ':n': wait.negotiation_id, ':a': wait.approval_id, ':d': wait.deadline_at, ':r': wait.remind_at },
        }),
      ),
    );
    if (!kept) await this.doc.send(new PutCommand({ TableName: this.negotiations, Item: { ...key, ...wait, reminded_at: null } }));
  }

  async approvalWaits(): Promise<ApprovalWait[]> {
    const waits: ApprovalWait[] = [];
    for (const tenantId of this.opts.tenants)
      for (const r of await this.query({
        TableName: this.negotiations,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':pk': tenantId, ':w': 'wait#' },
      }))
        waits.push({
          tenantId,
          negotiationId: r.negotiation_id as string,
          approvalId: r.approval_id as string,
          deadlineAt: r.deadline_at as number,
          remindAt: (r.remind_at as number | null) ?? null,
          remindedAt: (r.reminded_at as number | null) ?? null,
        });
    return waits.sort((x, y) => x.deadlineAt - y.deadlineAt || x.negotiationId.localeCompare(y.negotiationId));
  }

  async markReminded(tenantId: string, negotiationId: string, approvalId: string, at: number): Promise<void> {
    await written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.negotiations,
          Key: { pk: tenantId, sk: waitSk(negotiationId) },
          UpdateExpression: 'SET reminded_at = :at',
          ConditionExpression: 'approval_id = :a',
          ExpressionAttributeValues: { ':at': at, ':a': approvalId },
        }),
      ),
    );
  }

  // Admission slots.

  private async slots(): Promise<SlotsItem | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.negotiations, Key: SLOTS, ConsistentRead: true }));
    return res.Item as SlotsItem | undefined;
  }

  /** Writes the slot item if nobody changed it since `seen` was read; false when someone did. */
  private async replaceSlots(seen: SlotsItem | undefined, next: Omit<SlotsItem, 'rev'>): Promise<boolean> {
    return written(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.negotiations,
          Item: { ...SLOTS, ...next, rev: (seen?.rev ?? 0) + 1 },
          ConditionExpression: seen ? 'rev = :rev' : 'attribute_not_exists(pk)',
          ...(seen ? { ExpressionAttributeValues: { ':rev': seen.rev } } : {}),
        }),
      ),
    );
  }

  /** A negotiation becomes ACTIVE again (after its approval): it holds a slot, as an ACTIVE row counts in SQLite. */
  private async holdSlot(pk: string, tenantId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.negotiations,
        Key: SLOTS,
        UpdateExpression: 'SET holders.#k = :t, rev = rev + :one',
        ExpressionAttributeNames: { '#k': pk },
        ExpressionAttributeValues: { ':t': tenantId, ':one': 1 },
      }),
    );
  }

  /** A negotiation left ACTIVE: its slot is free (the revision moves, so an admission that read the old item decides again). */
  private async freeSlot(pk: string): Promise<void> {
    // No slot item: no slot was held.
    await written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.negotiations,
          Key: SLOTS,
          UpdateExpression: 'REMOVE holders.#k SET rev = rev + :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#k': pk },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );
  }

  /**
   * Admission: read the slot item, decide (admissionDecision, the rule SQLite uses), write the
   * item back with this negotiation as a holder only if its revision is unchanged, then
   * checkpoint DRAFT -> ACTIVE. A lost race reads and decides again. A refusal first drops
   * holders that no longer hold a slot (see stale()) and decides once more.
   */
  async admit(state: NegotiationState, policy: SlotPolicy, expectedVersion: number): Promise<Admission> {
    const pk = negotiationKey(state.tenantId, state.negotiationId);
    let reconciled = false;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const seen = await this.slots();
      const holders = { ...(seen?.holders ?? {}) };
      const reserved = { ...(seen?.reserved ?? {}), [state.tenantId]: policy.reservedSlots };
      // Held already: another runner's admission of the same negotiation, or ours that died before its checkpoint.
      if (!holders[pk]) {
        const admission = admissionDecision(state.tenantId, slotUse(holders, reserved, state.tenantId), policy, this.opts.capacity);
        if (!admission.admitted) {
          if (reconciled || !(await this.dropStale(seen, holders))) return admission;
          reconciled = true;
          continue;
        }
        holders[pk] = state.tenantId;
        if (!(await this.replaceSlots(seen, { reserved, holders }))) {
          await new Promise((r) => setTimeout(r, Math.random() * 20));
          continue;
        }
      }
      // If this write fails the slot stays taken: another runner's admission of the same
      // negotiation may have seen it held and written ACTIVE first, and freeing it here would
      // leave that negotiation running without a slot (one more admitted than the tenant's
      // slots). A slot held by a negotiation that stayed DRAFT is reclaimed by dropStale.
      await this.write({ ...state, status: 'ACTIVE' }, expectedVersion, 'ingest', true);
      return { admitted: true };
    }
    throw new FindingError(`admission of ${pk}: the slot record kept changing (${ATTEMPTS} attempts)`);
  }

  /**
   * Removes the holders that hold no slot any more: a negotiation no longer ACTIVE whose slot
   * was not freed (its runner died between the checkpoint and the slot write), or a DRAFT
   * whose admission died between taking the slot and its checkpoint. A DRAFT is fenced first
   * (its version moves on) so a slow admission still under way cannot turn it ACTIVE after its
   * slot was given away. True when some were removed.
   */
  private async dropStale(seen: SlotsItem | undefined, holders: Record<string, string>): Promise<boolean> {
    const stale: string[] = [];
    for (const [key, tenantId] of Object.entries(holders)) {
      const negotiationId = key.slice(tenantId.length + 1);
      const item = await this.item(tenantId, negotiationId);
      if (item?.status === 'ACTIVE') continue;
      if (item?.status === 'DRAFT' && !(await this.fenceDraft(item))) continue;
      stale.push(key);
    }
    if (!stale.length) return false;
    for (const key of stale) delete holders[key];
    await this.replaceSlots(seen, { reserved: seen?.reserved ?? {}, holders });
    return true;
  }

  /** Moves a DRAFT's version on, unless a live lease says its admission may still be running. */
  private async fenceDraft(item: NegotiationItem): Promise<boolean> {
    const lease = await this.doc.send(
      new GetCommand({ TableName: this.negotiations, Key: { pk: item.tenant_id, sk: leaseSk(item.negotiation_id) }, ConsistentRead: true }),
    );
    if (lease.Item && (lease.Item.expires_at as number) > Date.now()) return false;
    return written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.negotiations,
          Key: { pk: item.pk, sk: NEGOTIATION },
          UpdateExpression: 'SET version = version + :one',
          ConditionExpression: 'version = :v AND #status = :draft',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':one': 1, ':v': item.version, ':draft': 'DRAFT' },
        }),
      ),
    );
  }

  /** Negotiations of a tenant holding a slot (tests, accounting). */
  async activeCount(tenantId: string): Promise<number> {
    return Object.values((await this.slots())?.holders ?? {}).filter((t) => t === tenantId).length;
  }

  // Leases.

  async acquireLease(tenantId: string, negotiationId: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    if (
      !(await written(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.negotiations,
            Item: { pk: tenantId, sk: leaseSk(negotiationId), negotiation_id: negotiationId, owner, expires_at: now + ttlMs },
            ConditionExpression: 'attribute_not_exists(pk) OR expires_at <= :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': now, ':owner': owner },
          }),
        ),
      ))
    )
      return false;
    const mine = this.held.get(owner) ?? new Set<string>();
    this.held.set(owner, mine.add(negotiationKey(tenantId, negotiationId)));
    return true;
  }

  async renewLeases(owner: string, ttlMs: number, now: number): Promise<number> {
    const mine = this.held.get(owner) ?? new Set<string>();
    const renewed = await Promise.all(
      [...mine].map(async (key) => {
        const cut = key.indexOf('#');
        const still = await written(() =>
          this.doc.send(
            new UpdateCommand({
              TableName: this.negotiations,
              Key: { pk: key.slice(0, cut), sk: leaseSk(key.slice(cut + 1)) },
              UpdateExpression: 'SET expires_at = :e',
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':e': now + ttlMs, ':owner': owner },
            }),
          ),
        );
        // Another runner took it: no longer ours to renew.
        if (!still) mine.delete(key);
        return still;
      }),
    );
    return renewed.filter(Boolean).length;
  }

  async releaseLease(tenantId: string, negotiationId: string, owner: string): Promise<void> {
    this.held.get(owner)?.delete(negotiationKey(tenantId, negotiationId));
    await written(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.negotiations,
          Key: { pk: tenantId, sk: leaseSk(negotiationId) },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      ),
    );
  }

  async expiredLeases(now: number): Promise<Lease[]> {
    const leases: Lease[] = [];
    for (const tenantId of this.opts.tenants)
      for (const r of await this.query({
        TableName: this.negotiations,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :l)',
        FilterExpression: 'expires_at <= :now',
        ExpressionAttributeValues: { ':pk': tenantId, ':l': 'lease#', ':now': now },
      }))
        leases.push({ tenantId, negotiationId: r.negotiation_id as string, owner: r.owner as string, expiresAt: r.expires_at as number });
    return leases.sort((a, b) => a.expiresAt - b.expiresAt);
  }

  // What the procurement tools write.

  async setClassification(tenantId: string, negotiationId: string, c: NonNullable<ToolColumns['classification']>): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.negotiations,
        Key: { pk: negotiationKey(tenantId, negotiationId), sk: NEGOTIATION },
        UpdateExpression: 'SET classification = :c',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':c': JSON.stringify(c) },
      }),
    );
    this.local.setClassification(tenantId, negotiationId, c);
  }

  async openRound(tenantId: string, negotiationId: string, round: number): Promise<void> {
    // Never back: an older round changes nothing.
    await written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.negotiations,
          Key: { pk: negotiationKey(tenantId, negotiationId), sk: NEGOTIATION },
          UpdateExpression: 'SET #round = :r',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#round) OR #round < :r)',
          ExpressionAttributeNames: { '#round': 'round' },
          ExpressionAttributeValues: { ':r': round },
        }),
      ),
    );
    this.local.openRound(tenantId, negotiationId, round);
  }

  /** The idempotency record's expiry, in epoch seconds (DynamoDB's TTL unit). */
  private expiresAt(): number {
    return Math.floor(Date.now() / 1000) + this.ttlSeconds;
  }

  /** Puts an idempotency record if its key is new; the stored one when it is not. */
  private async once(item: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    if (
      await written(() =>
        this.doc.send(new PutCommand({ TableName: this.idempotency, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
      )
    )
      return undefined;
    const res = await this.doc.send(
      new GetCommand({ TableName: this.idempotency, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
    );
    return res.Item!;
  }

  async recordBid(tenantId: string, negotiationId: string, key: string, bid: QuotedBid): Promise<{ bid: QuotedBid; duplicate: boolean }> {
    const first = await this.once({
      pk: negotiationKey(tenantId, negotiationId),
      sk: `bid#${key}`,
      bid_id: bid.bidId,
      supplier_id: bid.supplierId,
      round: bid.round,
      bid: JSON.stringify(bid),
      [TTL_ATTRIBUTE]: this.expiresAt(),
    });
    const stored = first ? (JSON.parse(first.bid as string) as QuotedBid) : bid;
    this.local.recordBid(tenantId, negotiationId, key, stored);
    return { bid: stored, duplicate: first !== undefined };
  }

  async recordDocument(
    tenantId: string,
    negotiationId: string,
    key: string,
    kind: LedgerDocumentKind,
    body: Record<string, unknown>,
  ): Promise<{ id: string; duplicate: boolean }> {
    const id = uuidv7();
    const first = await this.once({
      pk: negotiationKey(tenantId, negotiationId),
      sk: `doc#${key}`,
      kind,
      id,
      body: JSON.stringify(body),
      [TTL_ATTRIBUTE]: this.expiresAt(),
    });
    const stored = first
      ? {
          id: first.id as string,
          kind: first.kind as LedgerDocumentKind,
          body: JSON.parse(first.body as string) as Record<string, unknown>,
        }
      : { id, kind, body };
    this.local.recordDocument(tenantId, negotiationId, key, stored.kind, stored.body, stored.id);
    return { id: stored.id, duplicate: first !== undefined };
  }
}

/** The counts admissionDecision reads, from the slot item's holders and reservations. */
function slotUse(holders: Record<string, string>, reserved: Record<string, number>, tenantId: string) {
  const active = new Map<string, number>();
  for (const t of Object.values(holders)) active.set(t, (active.get(t) ?? 0) + 1);
  let sharedInUse = 0;
  for (const [t, n] of active) sharedInUse += Math.max(0, n - (reserved[t] ?? 0));
  return {
    mine: active.get(tenantId) ?? 0,
    reservedTotal: Object.values(reserved).reduce((a, b) => a + b, 0),
    sharedInUse,
  };
}
