import { z } from 'zod';
import type { AgentDefinition } from '../agent.js';
import { explain } from './rationale.js';
import { negotiationRef } from './strategy-input.js';

/** Why a negotiation needs attention (seed 000's REQUIRES_ATTENTION triggers). */
export const AttentionTrigger = z.enum(['no_bids', 'no_feasible_bid', 'approval_timeout', 'tool_refused']);
export type AttentionTrigger = z.infer<typeof AttentionTrigger>;

export const ComplianceRequest = z.strictObject({
  negotiationId: z.string().min(1),
  trigger: AttentionTrigger,
  details: z.record(z.string(), z.unknown()).default({}),
});

export interface ComplianceOutput {
  caseId: string;
  severity: 'info' | 'minor' | 'major' | 'critical';
  summary: string;
}

/** An award that timed out unapproved or a refused tool call is a governance event; a dry market an operational one. */
const SEVERITY: Record<AttentionTrigger, ComplianceOutput['severity']> = {
  approval_timeout: 'major',
  tool_refused: 'major',
  no_feasible_bid: 'minor',
  no_bids: 'info',
};

/** The eighth agent: reviews a negotiation in REQUIRES_ATTENTION and records a finding for a human. */
export const complianceReview: AgentDefinition<z.infer<typeof ComplianceRequest>, ComplianceOutput> = {
  name: 'compliance-review',
  input: ComplianceRequest,
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const severity = SEVERITY[input.trigger];
    await ctx.tools.call('get_negotiation', { negotiationId: ref });
    const why = await explain(
      ctx,
      'Summarise for a compliance reviewer why this negotiation needs attention.',
      { trigger: input.trigger, ...input.details },
      `negotiation ${input.negotiationId} requires attention: ${input.trigger.replaceAll('_', ' ')} ${JSON.stringify(input.details)}`,
    );
    const opened = await ctx.tools.call<{ caseId: string }>('record_compliance_finding', {
      negotiationId: ref,
      severity,
      finding: why.text.slice(0, 4000),
    });
    return { output: { caseId: opened.caseId, severity, summary: why.text }, producedBy: why.producedBy };
  },
};
