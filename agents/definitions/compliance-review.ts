import { z } from 'zod';
import { ModelAnswerError, type AgentDefinition } from '../agent.js';
import { allowedCalls, negotiationFacts, SUMMARY_FORMAT, SummaryAnswer } from './model-tasks.js';
import { negotiationRef, parseAnswer } from './strategy-input.js';
import { rulesSummary } from './rationale.js';
import { AttentionTrigger, ComplianceSeverity, complianceSeverity } from '../strategies/index.js';

export const ComplianceRequest = z.strictObject({
  negotiationId: z.string().min(1),
  trigger: AttentionTrigger,
  details: z.record(z.string(), z.unknown()).default({}),
});

export interface ComplianceOutput {
  caseId: string;
  severity: ComplianceSeverity;
  summary: string;
}

/** The eighth agent: reviews a negotiation in REQUIRES_ATTENTION and records a finding for a human. */
export const complianceReview: AgentDefinition<z.infer<typeof ComplianceRequest>, ComplianceOutput> = {
  name: 'compliance-review',
  input: ComplianceRequest,
  model: {
    instructions:
      'Review why this negotiation requires attention (read it with get_negotiation and get_bids) and record one finding for a human reviewer with record_compliance_finding, at the severity given.',
    answerFormat: SUMMARY_FORMAT,
    answer: SummaryAnswer,
    prompt: (input, ctx) =>
      negotiationFacts(ctx, input.negotiationId, {
        trigger: input.trigger,
        severity: complianceSeverity(input.trigger),
        details: input.details,
      }),
    /** The case is the one the model's allowed record_compliance_finding opened. */
    async settle(input, _ctx, loop) {
      const opened = allowedCalls(loop, 'record_compliance_finding')[0];
      if (!opened) throw new ModelAnswerError('no compliance finding was recorded');
      const { caseId } = parseAnswer(z.object({ caseId: z.string() }), 'record_compliance_finding', opened.result.value);
      const severity = ComplianceSeverity.catch(complianceSeverity(input.trigger)).parse((opened.input as { severity?: unknown }).severity);
      const { summary } = loop.answer as z.infer<typeof SummaryAnswer>;
      return { output: { caseId, severity, summary }, producedBy: { model: loop.modelId } };
    },
  },
  async run(input, ctx) {
    const ref = negotiationRef(ctx, input.negotiationId);
    const severity = complianceSeverity(input.trigger);
    await ctx.tools.call('get_negotiation', { negotiationId: ref });
    const why = rulesSummary(
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
