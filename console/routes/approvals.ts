import { queryAudit } from '../../audit/index.js';
import { InputError } from '../../common/index.js';
import { approvalQueue, approvalRequest, killSwitches, startApprovalAct, startSwitchChange } from '../approvals-api.js';
import { signingOf } from '../browser-signing.js';
import type { RouteModule } from '../context.js';
import { visible } from '../guard.js';

const str = (body: Record<string, unknown>, field: string, required = true): string | undefined => {
  const v = body[field];
  if ((v === undefined || v === '') && !required) return undefined;
  if (typeof v !== 'string' || !v) throw new InputError(`${field} is required`, { field });
  return v;
};

/**
 * Approvals and kill switches: the queue (approver, auditor), approve or deny signed in the
 * browser (approver), switches and their history (security, approver, auditor), engage
 * (security), release (security, approver: an approval key). Each act is recorded in the trail
 * by the access log before it starts; the act's own signed evidence follows through the
 * gateway's outbox, as for the CLI.
 */
export const approvalRoutes: RouteModule = (app, ctx) => {
  const signing = signingOf(app);

  app.get('/api/approvals', { config: { roles: ['approver', 'auditor'] } }, (req) => ({
    requests: approvalQueue(ctx.home, req.viewer),
    now: new Date().toISOString(),
  }));

  app.post<{ Params: { id: string } }>('/api/approvals/:id/act', { config: { roles: ['approver'] } }, async (req) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const decision = str(body, 'decision');
    if (decision !== 'approve' && decision !== 'deny') throw new InputError('decision must be approve or deny', { field: 'decision' });
    const target = approvalRequest(ctx.home, req.viewer, req.params.id);
    const keyId = str(body, 'keyId')!;
    await ctx.access.record(req.viewer, {
      what: `approvals.${decision}`,
      tenantId: target.tenant,
      subject: req.params.id,
      details: { keyId, tool: target.tool, agent: target.agent },
    });
    return startApprovalAct(ctx.home, signing, req.viewer, { id: req.params.id, decision, reason: str(body, 'reason', false), keyId });
  });

  app.post<{ Params: { session: string } }>('/api/signing/:session', { config: { roles: ['approver', 'security'] } }, (req) =>
    signing.answer(req.viewer.name, req.params.session, str((req.body ?? {}) as Record<string, unknown>, 'value')!),
  );

  app.get('/api/killswitches', { config: { roles: ['security', 'approver', 'auditor'] } }, async (req) => {
    const records = await queryAudit({ ...ctx.audit, kind: 'evidence', ...(req.viewer.tenant ? { tenant: req.viewer.tenant } : {}) });
    const history = records
      .flatMap((r) => (r.kind === 'evidence' && r.evidenceType === 'kill-switch' && visible(req.viewer, r.tenantId) ? [r] : []))
      .map((r) => ({ id: r.id, time: r.time, summary: r.summary }))
      .reverse();
    return { ...killSwitches(ctx.home, req.viewer), history };
  });

  for (const verb of ['engage', 'release'] as const)
    app.post(
      `/api/killswitches/${verb}`,
      { config: { roles: verb === 'engage' ? ['security'] : ['security', 'approver'] } },
      async (req) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const input = {
          verb,
          tenant: str(body, 'tenant', false),
          agent: str(body, 'agent', false),
          reason: str(body, 'reason')!,
          keyId: str(body, 'keyId')!,
        };
        await ctx.access.record(req.viewer, {
          what: `killswitch.${verb}`,
          tenantId: input.tenant ?? req.viewer.tenant ?? null,
          subject: input.tenant ? `tenant:${input.tenant}` : `agent:${input.agent ?? ''}`,
          details: { keyId: input.keyId, reason: input.reason },
        });
        return startSwitchChange(ctx.home, signing, req.viewer, input);
      },
    );
};
