import type { AgentOutput, AttentionTrigger, NegotiationStatusCode, QuotedBid, Requisition, Supplier } from '../agents/index.js';

/** Negotiation status (seed 000). Only ACTIVE negotiations hold an admission slot. */
export type NegotiationStatus = NegotiationStatusCode;
export const TERMINAL: ReadonlySet<NegotiationStatus> = new Set(['AWARDED', 'CANCELLED', 'TERMINATED', 'REQUIRES_ATTENTION']);

/**
 * The seven nodes ('strategy' is one of 4a-4d, chosen by the router), plus 'review': the
 * compliance review that follows every move to REQUIRES_ATTENTION.
 */
export type NodeName = 'ingest' | 'classify' | 'route' | 'strategy' | 'evaluate' | 'approve' | 'award' | 'review';
export const NODE_LABEL: Record<NodeName, string> = {
  ingest: '1 ingest & validate',
  classify: '2 kraljic classify',
  route: '3 strategy router',
  strategy: '4 strategy',
  evaluate: '5 evaluate',
  approve: '6 approval gate',
  award: '7 award',
  review: 'compliance review',
};

export type StrategyNode = '4a' | '4b' | '4c' | '4d';

/** What an agent step leaves in state: its output and who produced it. */
export interface AgentStep<O = unknown> {
  agent: string;
  producedBy: AgentOutput['producedBy'];
  output: O;
  warnings: string[];
}

export interface NodeRun {
  node: NodeName;
  at: string;
  ms: number;
  note: string;
}

/**
 * The negotiation record: everything a node needs is loaded from here and everything it
 * produces is written back here. Agents never talk to each other; every hop is this state.
 */
export interface NegotiationState {
  tenantId: string;
  negotiationId: string;
  requisition: Requisition;
  status: NegotiationStatus;
  /** The next node to run; null when the negotiation is terminal. */
  nextNode: NodeName | null;
  /** Why the negotiation ended where it did (cancellation reason, attention trigger). */
  reason: string | null;
  pool: Supplier[];
  classification?: AgentStep<{ quadrant: string; confidence: number; method: string; warnings: string[] }> & { cache: 'hit' | 'miss' };
  route?: { node: StrategyNode; agent: string; eligible: Supplier[]; filtered: Array<{ supplierId: string; reason: string }> };
  strategy?: AgentStep<{
    bids: QuotedBid[];
    unreachable: Array<{ supplierId: string; reason: string }>;
    rounds: number;
    rationale: string;
  }>;
  evaluation?: AgentStep<{
    round: number;
    ranking: string[];
    award: { bidId: string; supplierId: string; priceCents: number } | null;
    excluded: Array<{ bidId: string; reasons: string[] }>;
  }>;
  approval?: {
    mode: 'auto' | 'human';
    status: 'approved' | 'pending' | 'denied' | 'expired';
    approvalId: string | null;
    totalCents: number;
    thresholdCents: number;
    deadline: string | null;
    /** When the approver queue and the hooks are reminded (approvalReminderSeconds before the deadline); absent: no reminder. */
    remindAt?: string | null;
  };
  award?: AgentStep<{
    purchaseOrders: Array<{ poNumber: string; purchaseOrderId: string; supplierId: string; totalCents: number }>;
    notified: number;
  }>;
  attention?: { trigger: AttentionTrigger; details: Record<string, unknown>; caseId: string | null; severity: string | null };
  history: NodeRun[];
}
