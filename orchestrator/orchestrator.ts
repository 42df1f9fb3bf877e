import { performance } from 'node:perf_hooks';
import { SpanKind } from '@opentelemetry/api';
import {
  ATTR,
  countAdmissionRefusal,
  errorMessage,
  inSpan,
  InputError,
  negotiationContext,
  negotiationTraceId,
  validateWith,
} from '../common/index.js';
import { digestJson } from '../signing/index.js';
import {
  describeProducer,
  Requisition,
  resolveAgentConfig,
  ToolDeniedError,
  ToolFailedError,
  type AgentConfig,
  type AgentOutput,
  type AttentionTrigger,
  type ConfigStore,
  type InvokeOptions,
  type KraljicClassification,
  type Supplier,
} from '../agents/index.js';
import type { ApprovalStore } from '../gateway/index.js';
import { AdmissionDenied } from './errors.js';
import { modelCostMicros, type PriceTable } from './prices.js';
import { NODE_RETRY, type NodeRetry } from './retry.js';
import { classificationCacheKey } from './semantic-cache.js';
import { TERMINAL, type NegotiationState, type NodeName, type StrategyNode } from './state.js';
import type { RunnerStore } from './runner-store.js';

/** Invokes an agent for a tenant: in process, or on AgentCore Runtime (InvokeAgentRuntime). */
export interface AgentDispatcher {
  invoke(agent: string, tenantId: string, input: unknown, opts: InvokeOptions): Promise<AgentOutput>;
}

/** A tenant's Approved Supplier Pool (node 1). */
export interface SupplierDirectory {
  approvedSuppliers(tenantId: string): Supplier[];
}

export interface NegotiationEvent {
  tenantId: string;
  negotiationId: string;
  node: NodeName;
  status: NegotiationState['status'];
  note: string;
  ms: number;
}

export interface OrchestratorOptions {
  /** The negotiation store: SQLite (embedded) or DynamoDB (shared by runners), both through the runner's seam. */
  store: RunnerStore;
  agents: AgentDispatcher;
  config: ConfigStore;
  approvals: ApprovalStore;
  suppliers: SupplierDirectory;
  onEvent?: (e: NegotiationEvent) => void;
  /** Clock for approval deadlines (tests move it past 96 h). */
  now?: () => number;
  retry?: NodeRetry;
  /** Prices of model tokens (the home's prices.yaml): usage is booked with its amount; none: unpriced. */
  prices?: PriceTable;
}

const STRATEGY_BY_QUADRANT: Record<string, { node: StrategyNode; agent: string }> = {
  'Non-Critical': { node: '4a', agent: 'spot-bidding' },
  Leverage: { node: '4b', agent: 'leverage-auction' },
  Bottleneck: { node: '4c', agent: 'bottleneck-negotiation' },
  Strategic: { node: '4d', agent: 'strategic-partnership' },
};

/** Node-4 agents take at most this many suppliers (the spot fan-out limit). */
const MAX_CANDIDATES = 200;

type NodeResult = { state: NegotiationState; note: string };

/**
 * The seven-node negotiation DAG (seed 000). Each node loads the negotiation from the store,
 * runs (deterministic code, or one agent through the dispatcher), and checkpoints the new state
 * under `tenant_id#negotiation_id` before the next node starts; a crashed run resumes from the
 * last checkpoint. Agents never call each other: every hop is state.
 */
export class Orchestrator {
  private readonly now: () => number;

  constructor(private readonly opts: OrchestratorOptions) {
    this.now = opts.now ?? Date.now;
  }

  private config(tenantId: string, agent: string): AgentConfig {
    return resolveAgentConfig(this.opts.config, tenantId, agent).config;
  }

  /**
   * Node 1, Ingest & Validate: schema check (bad input: InputError, nothing written), business
   * validation (failure: TERMINATED, PR cancelled), the Approved Supplier Pool, then admission
   * and DRAFT -> ACTIVE in one transaction; refused admission throws AdmissionDenied (429).
   * Submitting the same negotiation again retries its admission.
   */
  async submit(tenantId: string, raw: unknown): Promise<NegotiationState> {
    const t0 = performance.now();
    const requisition = validateWith(Requisition, raw, `requisition of tenant ${tenantId}`);
    const { negotiationId } = requisition;
    const store = this.opts.store;
    let state = await store.load(tenantId, negotiationId);
    if (state && state.status !== 'DRAFT') return state;
    if (!state) {
      const pool = this.opts.suppliers.approvedSuppliers(tenantId);
      const problems = validationProblems(requisition, pool);
      const draft: NegotiationState = {
        tenantId,
        negotiationId,
        requisition,
        status: 'DRAFT',
        nextNode: 'ingest',
        reason: null,
        pool,
        history: [],
      };
      state = await store.createDraft(draft);
      if (problems.length) {
        const terminated: NegotiationState = {
          ...state,
          status: 'TERMINATED',
          nextNode: null,
          reason: `validation failed: ${problems.join('; ')} (PR cancelled)`,
        };
        return this.save(terminated, await store.version(tenantId, negotiationId), 'ingest', t0, terminated.reason!);
      }
    }
    const cfg = this.config(tenantId, 'orchestrator');
    // The version first, then the DRAFT admitted from (as versioned() reads them): another
    // runner's admission in between makes this one's write conflict, not overwrite its progress.
    const version = await store.version(tenantId, negotiationId);
    state = (await store.load(tenantId, negotiationId))!;
    if (state.status !== 'DRAFT') return state;
    const admitted: NegotiationState = { ...state, status: 'ACTIVE', nextNode: 'classify' };
    const ms = performance.now() - t0;
    const note = `admitted (${state.pool.length} approved supplier(s))`;
    admitted.history = [...state.history, { node: 'ingest', at: new Date().toISOString(), ms, note }];
    let admission;
    try {
      admission = await store.admit(admitted, cfg.admission, version);
    } catch (err) {
      // Another runner admitted it between this read and this write: the stored negotiation is the answer.
      const stored = await store.load(tenantId, negotiationId);
      if (stored && stored.status !== 'DRAFT') return stored;
      throw err;
    }
    if (!admission.admitted) {
      countAdmissionRefusal(tenantId);
      throw new AdmissionDenied(tenantId, negotiationId, cfg.admission.retryAfterSeconds, admission.reason);
    }
    this.opts.onEvent?.({ tenantId, negotiationId, node: 'ingest', status: 'ACTIVE', note, ms });
    return admitted;
  }

  /** Submits and runs a negotiation to its end or to the approval wait. */
  async negotiate(tenantId: string, raw: unknown): Promise<NegotiationState> {
    const state = await this.submit(tenantId, raw);
    return TERMINAL.has(state.status) ? state : this.run(tenantId, state.negotiationId);
  }

  /**
   * Runs (or resumes) a negotiation from its last checkpoint. The lookup is by
   * `tenant_id#negotiation_id`: naming another tenant's negotiation finds nothing and fails.
   */
  async run(tenantId: string, negotiationId: string): Promise<NegotiationState> {
    let { state, version } = await this.versioned(tenantId, negotiationId);
    if (state.status === 'DRAFT')
      throw new InputError(`negotiation '${negotiationId}' was not admitted yet: submit it again`, { field: 'negotiationId' });
    // Every run and resume of a negotiation is a span of the negotiation's one trace.
    const attributes = { [ATTR.tenant]: tenantId, [ATTR.negotiation]: negotiationId, [ATTR.agent]: 'orchestrator' };
    return inSpan(
      'negotiation.run',
      attributes,
      async (span) => {
        while (state.nextNode) {
          [state, version] = await this.advance(state, version, (node, s) => this.stepWithRetry(node, s));
          // A pending approval parks the negotiation; a later resume picks it up at the gate.
          if (state.status === 'AWAITING_APPROVAL') break;
        }
        span.setAttribute('charter.negotiation.status', state.status);
        return state;
      },
      { parent: negotiationContext(tenantId, negotiationId) },
    );
  }

  /**
   * Runs one node of a negotiation, once, as a step invoker of the Step Functions export does
   * (the engine retries and routes; see exportAsl). A node the negotiation has already passed
   * (the engine replayed a step whose checkpoint was written) returns the stored state and runs
   * nothing; any other node than the next one is refused.
   */
  async runNode(tenantId: string, negotiationId: string, node: NodeName): Promise<NegotiationState> {
    const { state, version } = await this.versioned(tenantId, negotiationId);
    if (state.nextNode === node) {
      // A step of the negotiation's one trace, as the embedded engine's run is.
      const attributes = { [ATTR.tenant]: tenantId, [ATTR.negotiation]: negotiationId, [ATTR.agent]: 'orchestrator' };
      const [next] = await inSpan('negotiation.step', attributes, () => this.advance(state, version, (n, s) => this.step(n, s)), {
        parent: negotiationContext(tenantId, negotiationId),
      });
      return next;
    }
    if (state.history.some((h) => h.node === node)) return state;
    throw new InputError(`negotiation '${negotiationId}' is at node '${state.nextNode ?? 'none'}', not '${node}'`, { field: 'node' });
  }

  /**
   * The stored state with the version a run writes it from. The version is read first: a write
   * landing between the two reads makes the run's first checkpoint conflict instead of being
   * overwritten by an older state.
   */
  private async versioned(tenantId: string, negotiationId: string): Promise<{ state: NegotiationState; version: number }> {
    const missing = () => new InputError(`no negotiation '${negotiationId}' for tenant '${tenantId}'`, { field: 'negotiationId' });
    let version: number;
    try {
      version = await this.opts.store.version(tenantId, negotiationId);
    } catch (err) {
      throw err instanceof InputError ? missing() : err;
    }
    const state = await this.opts.store.load(tenantId, negotiationId);
    if (!state) throw missing();
    return { state, version };
  }

  /**
   * Runs the negotiation's next node and checkpoints the result, conditional on `version`: the
   * version the state in hand was read at (or last written at) by this run, never one read again
   * now. A runner that stalled past its lease and woke up must not write its old state over the
   * newer checkpoints of the runner that took over: its write conflicts. Returns the new state and version.
   */
  private async advance(
    state: NegotiationState,
    version: number,
    step: (node: NodeName, state: NegotiationState) => Promise<NodeResult>,
  ): Promise<[NegotiationState, number]> {
    const node = state.nextNode!;
    const t0 = performance.now();
    const attributes = { [ATTR.tenant]: state.tenantId, [ATTR.negotiation]: state.negotiationId, [ATTR.agent]: 'orchestrator' };
    const { state: next, note } = await inSpan(`negotiation.node ${node}`, attributes, () => step(node, state));
    return [await this.save(next, version, node, t0, note), version + 1];
  }

  private async save(state: NegotiationState, version: number, node: NodeName, t0: number, note: string): Promise<NegotiationState> {
    const ms = performance.now() - t0;
    const next = { ...state, history: [...state.history, { node, at: new Date().toISOString(), ms, note }] };
    await this.opts.store.checkpoint(next, version, node);
    // Costs are booked where this runner runs (the local store): they are accounting, not coordination.
    this.opts.store.local.addCost({
      tenantId: state.tenantId,
      negotiationId: state.negotiationId,
      agent: 'orchestrator',
      model: '-',
      month: this.today().slice(0, 7),
      invocations: 1,
      modelCalls: 0,
      inputTokens: 0,
      outputTokens: 0,
      toolCalls: 0,
      // its share of the month's running cost is prorated when the costs are reported
      costMicros: 0,
    });
    this.opts.onEvent?.({ tenantId: state.tenantId, negotiationId: state.negotiationId, node, status: next.status, note, ms });
    return next;
  }

  /** A node, retried after a failed tool call (NodeRetry); after the last retry the error stands and a resume can retry later. */
  private async stepWithRetry(node: NodeName, state: NegotiationState): Promise<NodeResult> {
    const retry = this.opts.retry ?? NODE_RETRY;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      try {
        return await this.step(node, state);
      } catch (err) {
        if (!(err instanceof ToolFailedError) || attempt >= retry.maxAttempts) throw err;
        const waitMs = retry.intervalMs * retry.backoffRate ** attempt;
        const note = `retry ${attempt + 1}/${retry.maxAttempts} in ${waitMs} ms after: ${errorMessage(err)}`;
        this.opts.onEvent?.({
          tenantId: state.tenantId,
          negotiationId: state.negotiationId,
          node,
          status: state.status,
          note,
          ms: performance.now() - t0,
        });
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  private async step(node: NodeName, state: NegotiationState): Promise<NodeResult> {
    try {
      switch (node) {
        case 'ingest':
          throw new InputError('node 1 runs at submit');
        case 'classify':
          return await this.classify(state);
        case 'route':
          return this.route(state);
        case 'strategy':
          return await this.strategy(state);
        case 'evaluate':
          return await this.evaluate(state);
        case 'approve':
          return await this.approve(state);
        case 'award':
          return await this.award(state);
        case 'review':
          return await this.review(state);
      }
    } catch (err) {
      // A refused tool call is a governance outcome, not a transient failure: a retry would be
      // refused again, so the negotiation goes to a human (fail closed). Anything else is
      // rethrown with the checkpoint untouched, so a resume retries the node.
      if (err instanceof ToolDeniedError && node !== 'review')
        return this.attention(state, 'tool_refused', { node, tool: err.tool, reason: errorMessage(err) });
      // The review itself refused (e.g. the tenant's kill switch is engaged): the negotiation
      // stays REQUIRES_ATTENTION for a human, with no case recorded and the refusal noted.
      if (err instanceof ToolDeniedError) return this.reviewRefused(state, err);
      throw err;
    }
  }

  private async dispatch(agent: string, state: NegotiationState, input: unknown): Promise<AgentOutput> {
    const out = await inSpan(
      `agent.invoke ${agent}`,
      { [ATTR.tenant]: state.tenantId, [ATTR.negotiation]: state.negotiationId, [ATTR.agent]: agent },
      async (span) => {
        const answer = await this.opts.agents.invoke(agent, state.tenantId, input, {
          negotiationId: state.negotiationId,
          traceId: negotiationTraceId(state.tenantId, state.negotiationId),
        });
        span.setAttribute(ATTR.manifestDigest, answer.manifestDigest);
        return answer;
      },
      { kind: SpanKind.CLIENT },
    );
    // A model that was called and failed (the agent fell back to its rules) is still the model
    // the calls and tokens were spent on.
    const p = out.producedBy;
    const model = 'model' in p ? p.model : (p.fallbackFrom?.model ?? 'rules');
    const day = this.today();
    this.opts.store.local.addCost({
      tenantId: state.tenantId,
      negotiationId: state.negotiationId,
      agent,
      model,
      month: day.slice(0, 7),
      invocations: 1,
      modelCalls: out.usage.modelCalls,
      inputTokens: out.usage.inputTokens,
      outputTokens: out.usage.outputTokens,
      toolCalls: out.usage.toolCalls,
      costMicros: modelCostMicros(this.opts.prices, model, day, out.usage),
    });
    return out;
  }

  /** The UTC day (YYYY-MM-DD) usage is booked on. */
  private today(): string {
    return new Date(this.now()).toISOString().slice(0, 10);
  }

  /**
   * Node 2: the tenant's semantic cache first (a hit skips the model, the agent still records the
   * quadrant through its tool), then the classifier agent. Never blocks.
   */
  private async classify(state: NegotiationState): Promise<NodeResult> {
    const agent = 'kraljic-classifier';
    const cfg = this.config(state.tenantId, agent);
    const c = state.requisition.category;
    const thresholds = cfg.kraljicThresholds;
    const model = cfg.models.SimpleLLM || null;
    // The producer is part of the key: a rule answer cached before a model was configured must not stand in for the model.
    const key = classificationCacheKey({
      name: `${c.name} ${model ?? 'rules'}`,
      profitImpact: c.profitImpact,
      supplyRisk: c.supplyRisk,
      thresholds,
    });
    const cached = this.opts.store.local.cachedClassification(state.tenantId, key);
    const input = {
      negotiationId: state.negotiationId,
      categoryId: c.categoryId,
      name: c.name,
      profitImpact: c.profitImpact,
      supplyRisk: c.supplyRisk,
      thresholds,
      ...(cached ? { cached: { classification: cached, model: cached.method === 'model' ? model : null } } : {}),
    };
    const out = await this.dispatch(agent, state, input);
    const output = out.output as KraljicClassification;
    if (!cached) this.opts.store.local.cacheClassification(state.tenantId, key, output);
    const classification = {
      agent,
      producedBy: out.producedBy,
      output,
      warnings: out.warnings,
      cache: cached ? ('hit' as const) : ('miss' as const),
    };
    return {
      state: { ...state, classification, nextNode: 'route' },
      note: `${output.quadrant} (${cached ? 'cache hit, ' : ''}${describeProducer(out.producedBy)}, confidence ${output.confidence})`,
    };
  }

  /** Node 3: deterministic branch on the quadrant, then the delivery gate on the candidate pool. */
  private route(state: NegotiationState): NodeResult {
    const quadrant = state.classification!.output.quadrant;
    const target = STRATEGY_BY_QUADRANT[quadrant];
    if (!target) throw new InputError(`unknown quadrant '${quadrant}'`);
    const { deliveryRegion, maxDeliveryDays } = state.requisition;
    const eligible: Supplier[] = [];
    const filtered: Array<{ supplierId: string; reason: string }> = [];
    for (const s of [...state.pool].sort((a, b) => a.supplierId.localeCompare(b.supplierId))) {
      if (s.blocked) filtered.push({ supplierId: s.supplierId, reason: 'blocked by compliance' });
      else if (!s.regions.includes(deliveryRegion))
        filtered.push({ supplierId: s.supplierId, reason: `does not deliver to ${deliveryRegion}` });
      else if (s.deliveryDays > maxDeliveryDays)
        filtered.push({ supplierId: s.supplierId, reason: `delivery ${s.deliveryDays} d > ${maxDeliveryDays} d` });
      else if (eligible.length >= MAX_CANDIDATES)
        filtered.push({ supplierId: s.supplierId, reason: `over the ${MAX_CANDIDATES}-supplier fan-out limit` });
      else eligible.push(s);
    }
    const route = { ...target, eligible, filtered };
    if (eligible.length === 0) {
      return {
        state: { ...state, route, status: 'CANCELLED', nextNode: null, reason: 'no_eligible_suppliers (PR cancelled)' },
        note: `delivery gate emptied the pool (${filtered.length} filtered)`,
      };
    }
    return {
      state: { ...state, route, nextNode: 'strategy' },
      note: `${target.node} ${target.agent}, ${eligible.length} eligible, ${filtered.length} filtered`,
    };
  }

  /** Node 4a-4d: the routed agent collects bids through its tools. Zero bids: REQUIRES_ATTENTION (trigger 1). */
  private async strategy(state: NegotiationState): Promise<NodeResult> {
    const route = state.route!;
    const out = await this.dispatch(route.agent, state, { negotiationId: state.negotiationId });
    const output = out.output as NonNullable<NegotiationState['strategy']>['output'];
    const next = { ...state, strategy: { agent: route.agent, producedBy: out.producedBy, output, warnings: out.warnings } };
    if (output.bids.length === 0)
      return this.attention(next, 'no_bids', { solicited: route.eligible.length, unreachable: output.unreachable.length });
    return {
      state: { ...next, nextNode: 'evaluate' },
      note: `${output.bids.length} bid(s) in ${output.rounds} round(s), ${output.unreachable.length} unreachable (${describeProducer(out.producedBy)})`,
    };
  }

  /** Node 5: the agent reads the bids back from state, never from the strategy agent. */
  private async evaluate(state: NegotiationState): Promise<NodeResult> {
    const { requisition } = state;
    const constraints = requisition.constraints ?? { maxDeliveryDays: requisition.maxDeliveryDays, requiredCertifications: [] };
    const out = await this.dispatch('bid-evaluation', state, { negotiationId: state.negotiationId, constraints });
    const output = out.output as NonNullable<NegotiationState['evaluation']>['output'];
    const next = { ...state, evaluation: { agent: 'bid-evaluation', producedBy: out.producedBy, output, warnings: out.warnings } };
    if (!output.award) return this.attention(next, 'no_feasible_bid', { excluded: output.excluded.length });
    return {
      state: { ...next, nextNode: 'approve' },
      note: `award ${output.award.supplierId} at ${money(output.award.priceCents)} (${output.ranking.length} feasible, ${describeProducer(out.producedBy)})`,
    };
  }

  /**
   * Node 6: at or below the tenant's spend threshold the award is approved automatically.
   * Above it an approval request is opened for the exact purchase-order call node 7 will make
   * (the task token: tenant, agent, tool and argument digest); the negotiation waits for a human
   * (`charter approvals approve`) up to the approval timeout (96 h), then goes to
   * REQUIRES_ATTENTION (trigger 3). A denial cancels it.
   */
  private approve(state: NegotiationState): NodeResult | Promise<NodeResult> {
    const award = state.evaluation!.output.award!;
    const cfg = this.config(state.tenantId, 'award-communications');
    const threshold = cfg.limits.spendThresholdCents;
    const base = { totalCents: award.priceCents, thresholdCents: threshold };
    if (award.priceCents <= threshold) {
      return {
        state: { ...state, approval: { mode: 'auto', status: 'approved', approvalId: null, deadline: null, ...base }, nextNode: 'award' },
        note: `auto-approved (${money(award.priceCents)} <= threshold ${money(threshold)})`,
      };
    }
    const waiting = state.approval?.approvalId;
    if (!waiting) {
      const args = { tenant_id: state.tenantId, bidId: award.bidId, amountCents: award.priceCents };
      // issue_purchase_order is write-low; above the threshold the procurement pack demands one approver.
      const request = this.opts.approvals.request(
        {
          tenant: state.tenantId,
          agent: 'award-communications',
          tool: 'issue_purchase_order',
          argsDigest: digestJson(args),
          tier: 'write-low',
          required: 1,
          args,
          requestedBy: state.requisition.requestedBy,
          ttlSeconds: cfg.approvalTimeoutSeconds,
        },
        this.now(),
      );
      const deadline = Date.parse(request.expiresAt);
      const remindAt = cfg.approvalReminderSeconds
        ? new Date(Math.max(Date.parse(request.requestedAt), deadline - cfg.approvalReminderSeconds * 1000)).toISOString()
        : null;
      const approval = {
        mode: 'human' as const,
        status: 'pending' as const,
        approvalId: request.id,
        deadline: request.expiresAt,
        remindAt,
        ...base,
      };
      return {
        state: { ...state, status: 'AWAITING_APPROVAL', approval, nextNode: 'approve' },
        note: `${money(award.priceCents)} > threshold ${money(threshold)}: waiting for approval ${request.id}`,
      };
    }
    const request = this.opts.approvals.get(waiting, this.now());
    switch (request.status) {
      case 'approved':
        return {
          state: { ...state, status: 'ACTIVE', approval: { ...state.approval!, status: 'approved' }, nextNode: 'award' },
          note: `approved by ${request.approvals.map((a) => a.approver).join(', ')}`,
        };
      case 'denied': {
        const reason = `award denied by ${request.denials.map((d) => `${d.approver} (${d.reason})`).join(', ')}`;
        return {
          state: { ...state, approval: { ...state.approval!, status: 'denied' }, status: 'CANCELLED', nextNode: null, reason },
          note: reason,
        };
      }
      case 'expired':
        return this.attention({ ...state, approval: { ...state.approval!, status: 'expired' } }, 'approval_timeout', {
          approvalId: waiting,
          deadline: request.expiresAt,
        });
      case 'pending':
        return { state, note: `still waiting for approval ${waiting} (deadline ${request.expiresAt})` };
    }
  }

  /** Node 7: one purchase order per awarded supplier, a message to every bidder. */
  private async award(state: NegotiationState): Promise<NodeResult> {
    const { requisition } = state;
    const winner = state.evaluation!.output.award!;
    const out = await this.dispatch('award-communications', state, {
      negotiationId: state.negotiationId,
      bidId: winner.bidId,
      buyerName: requisition.buyerName,
      currency: requisition.currency,
    });
    const output = out.output as NonNullable<NegotiationState['award']>['output'];
    const award = {
      agent: 'award-communications',
      producedBy: out.producedBy,
      output: { purchaseOrders: output.purchaseOrders, notified: output.notified },
      warnings: out.warnings,
    };
    return {
      state: { ...state, award, status: 'AWARDED', nextNode: null, reason: null },
      note: `issued ${output.purchaseOrders.map((p) => p.poNumber).join(', ')}; notified ${output.notified} supplier(s)`,
    };
  }

  /**
   * REQUIRES_ATTENTION: the status is checkpointed first (the compliance agent may act only on
   * negotiations in that status), then the review node records a finding for a human.
   */
  private attention(state: NegotiationState, trigger: AttentionTrigger, details: Record<string, unknown>): NodeResult {
    return {
      state: {
        ...state,
        attention: { trigger, details, caseId: null, severity: null },
        status: 'REQUIRES_ATTENTION',
        nextNode: 'review',
        reason: trigger,
      },
      note: `requires attention: ${trigger}`,
    };
  }

  private reviewRefused(state: NegotiationState, err: ToolDeniedError): NodeResult {
    const attention = state.attention!;
    const refused = `compliance review refused: ${errorMessage(err)}`;
    return {
      state: { ...state, attention: { ...attention, details: { ...attention.details, review: refused } }, nextNode: null },
      note: `${refused}; left for a human`,
    };
  }

  private async review(state: NegotiationState): Promise<NodeResult> {
    const attention = state.attention!;
    const out = await this.dispatch('compliance-review', state, {
      negotiationId: state.negotiationId,
      trigger: attention.trigger,
      details: attention.details,
    });
    const review = out.output as { caseId: string; severity: string };
    return {
      state: { ...state, attention: { ...attention, caseId: review.caseId, severity: review.severity }, nextNode: null },
      note: `compliance finding ${review.caseId} (${review.severity}, ${describeProducer(out.producedBy)})`,
    };
  }
}

function money(cents: number): string {
  return `${(cents / 100).toFixed(2)}`;
}

/** Business checks of node 1 beyond the schema; any problem terminates the requisition. */
function validationProblems(r: Requisition, pool: Supplier[]): string[] {
  const problems: string[] = [];
  const ids = r.lines.map((l) => l.lineId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) problems.push(`line ${dup} appears twice`);
  if (pool.length === 0) problems.push('the tenant has no approved suppliers');
  return problems;
}
