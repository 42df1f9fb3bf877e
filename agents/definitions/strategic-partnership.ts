import type { AgentDefinition } from '../agent.js';
import { entityRef } from '../procurement.js';
import { rankPartners } from '../strategies/index.js';
import { strategyTask } from './model-tasks.js';
import { rulesSummary } from './rationale.js';
import {
  flagZeroBids,
  negotiationRef,
  parseAnswer,
  readBids,
  StrategyInput,
  SupplierProfile,
  type StrategyOutput,
} from './strategy-input.js';

/**
 * DAG node 4d (Strategic, DefaultLLM): proposals are scored on the supplier's relationship and
 * innovation record as well as quality (profiles read through get_supplier_profile); terms go
 * to the best partner. Partnership terms and long-term agreements are write-high tools that
 * need an approver, so the rules stop at a write-low proposal.
 */
export const strategicPartnership: AgentDefinition<StrategyInput, StrategyOutput> = {
  name: 'strategic-partnership',
  input: StrategyInput,
  model: strategyTask(
    "Score the proposals (get_bids) on the suppliers' relationship and innovation record (get_supplier_profile) as well as quality, and propose terms (propose_terms) to the best partner within the tenant limit maxProposalTermMonths.",
  ),
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const proposals = await readBids(ctx, ref);
    if (proposals.bids.length === 0) await flagZeroBids(ctx, ref, 'no strategic supplier proposed');
    const withProfiles = [];
    for (const b of proposals.bids) {
      const profile = parseAnswer(
        SupplierProfile,
        'get_supplier_profile',
        await ctx.tools.call('get_supplier_profile', { supplierId: entityRef(ctx.tenantId, b.supplierId) }),
      );
      withProfiles.push({ ...b, relationshipScore: profile.relationshipScore, innovationScore: profile.innovationScore });
    }
    const selection = rankPartners(withProfiles);
    const bids = selection.shortlist.map(({ relationshipScore: _r, innovationScore: _i, ...bid }) => bid);
    const best = bids[0];
    if (best)
      await ctx.tools.call('propose_terms', {
        bidId: best.bidId,
        amountCents: best.priceCents,
        termMonths: ctx.config.limits.maxProposalTermMonths,
      });
    const facts = {
      proposals: proposals.bids.length,
      qualified: selection.qualified,
      partnershipScores: selection.scores,
      termsProposedTo: best?.supplierId ?? null,
    };
    const why = rulesSummary(`strategic: ${selection.qualified} of ${proposals.bids.length} proposal(s) clear the partnership bar`);
    return {
      output: { bids, unreachable: proposals.unreachable, rounds: 1, rationale: why.text, analysis: facts },
      producedBy: why.producedBy,
    };
  },
};
