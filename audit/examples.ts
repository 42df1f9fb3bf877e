import { v7 as uuidv7 } from 'uuid';
import { digestJson } from '../signing/index.js';
import type { DecisionRecord, EvidenceRecord, RiskTier } from './record.js';

const TIERS: RiskTier[] = ['read', 'write-low', 'write-high', 'critical'];
const TOOLS = ['get_category_spend', 'submit_bid', 'award_contract', 'update_supplier_master'];

/**
 * A well-formed decision record, varied by `i` (tenant, agent, tool, tier, decision): what
 * the benchmarks and tests feed the log. Override any field.
 */
export function exampleDecision(i: number, overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  const tenant = ['acme', 'globex', 'initech'][i % 3]!;
  const tier = TIERS[i % TIERS.length]!;
  const tool = TOOLS[i % TOOLS.length]!;
  return {
    kind: 'decision',
    id: uuidv7(),
    time: new Date().toISOString(),
    tenantId: tenant,
    traceId: `trace-${Math.floor(i / 10)}`,
    runId: `run-${Math.floor(i / 100)}`,
    agentId: ['spot-bidding', 'kraljic-classifier', 'contract-award'][i % 3]!,
    principal: `user-${i % 7}@${tenant}.example`,
    tool,
    action: `Procurement::Action::"${tool}"`,
    resource: `Procurement::Negotiation::"${tenant}/n-${i % 50}"`,
    tier,
    argsDigest: digestJson({ i }),
    decision: i % 5 === 0 ? 'deny' : 'allow',
    mode: 'ENFORCE',
    determiningPolicies: [i % 5 === 0 ? 'base.tenant-isolation' : 'procurement.allow-bids'],
    reasons: [],
    errors: [],
    manifestDigest: digestJson({ manifest: i % 2 }),
    approvals: tier === 'critical' ? [{ approvalId: `ap-${i}`, approver: 'cfo@acme.example' }] : [],
    latencyMs: 0.4,
    ...overrides,
  };
}

export function exampleEvidence(i: number, overrides: Partial<EvidenceRecord> = {}): EvidenceRecord {
  return {
    kind: 'evidence',
    id: uuidv7(),
    time: new Date().toISOString(),
    tenantId: null,
    traceId: null,
    runId: null,
    evidenceType: 'eval-report',
    digest: digestJson({ report: i }),
    subject: digestJson({ manifest: i % 2 }),
    summary: `eval report ${i}`,
    document: { payloadType: 'application/vnd.charter.eval-report+json', payload: '', signatures: [] },
    ...overrides,
  };
}
