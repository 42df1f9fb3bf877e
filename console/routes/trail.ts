import { createPublicKey } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import {
  exportEvidenceBundle,
  proveInclusion,
  queryAudit,
  verifyAuditLog,
  type AuditQuery,
  type SealedRecord,
  type VerifyReport,
} from '../../audit/index.js';
import { InputError } from '../../common/index.js';
import type { ExportRequest, RecordView, TrailFilter, TrailPage, TrailRow, TrailStatus, TrustInfo } from '../api-types.js';
import type { ConsoleContext, RouteModule } from '../context.js';
import { NotFound, tenantScope, visible } from '../guard.js';

const READ = { roles: ['auditor'] } as const;

/** Rows a page holds. */
export const PAGE_SIZE = 50;

const CURSOR = /^(\d+)@(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;

export const cursorOf = (r: { seq: number; time: string }): string => `${r.seq}@${r.time}`;

function parseCursor(cursor: string): { seq: number; time: string } {
  const m = CURSOR.exec(cursor);
  if (!m) throw new InputError(`not a page cursor: '${cursor}'`, { field: 'cursor' });
  return { seq: Number(m[1]), time: m[2]! };
}

const one = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new InputError(`${field} given more than once`, { field });
  return v;
};

/** The trail filter of a request, the viewer's tenant scope applied (another tenant: 404). */
function queryOf(q: Record<string, unknown>, tenant: (requested: string | undefined) => string | undefined): AuditQuery {
  const decision = one(q.decision, 'decision');
  if (decision !== undefined && decision !== 'allow' && decision !== 'deny')
    throw new InputError('decision must be allow or deny', { field: 'decision' });
  const kind = one(q.kind, 'kind');
  if (kind !== undefined && kind !== 'decision' && kind !== 'evidence')
    throw new InputError('kind must be decision or evidence', { field: 'kind' });
  const fields: Record<string, string | undefined> = {
    tenant: tenant(one(q.tenant, 'tenant')),
    agent: one(q.agent, 'agent'),
    tool: one(q.tool, 'tool'),
    tier: one(q.tier, 'tier'),
    decision,
    kind,
    manifestDigest: one(q.manifest, 'manifest'),
    traceId: one(q.trace, 'trace'),
    from: one(q.from, 'from'),
    to: one(q.to, 'to'),
  };
  const query: AuditQuery = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const cursor = one(q.cursor, 'cursor');
  if (cursor !== undefined) query.after = parseCursor(cursor);
  return query;
}

const rowOf = (r: SealedRecord): TrailRow =>
  r.kind === 'decision'
    ? {
        id: r.id,
        seq: r.seq,
        time: r.time,
        kind: r.kind,
        tenant: r.tenantId,
        agent: r.agentId,
        tool: r.tool,
        tier: r.tier,
        decision: r.decision,
        evidenceType: null,
        summary: r.reasons.join('; '),
        trace: r.traceId,
      }
    : {
        id: r.id,
        seq: r.seq,
        time: r.time,
        kind: r.kind,
        tenant: r.tenantId,
        agent: null,
        tool: null,
        tier: null,
        decision: null,
        evidenceType: r.evidenceType,
        summary: r.summary,
        trace: r.traceId,
      };

/** The checkpoint keys the console was started with, as the browser checks signatures with them. */
export function trustInfo(ctx: ConsoleContext): TrustInfo {
  const keys = ctx.trust.keys.keys
    .filter((k) => k.algorithm === 'ed25519' && k.purposes.includes('audit-checkpoint'))
    .map((k) => ({
      name: k.name,
      publicKey: Buffer.from(createPublicKey(k.publicKeyPem).export({ format: 'jwk' }).x!, 'base64url').toString('base64'),
    }));
  return { trusted: ctx.trust.trusted, source: ctx.trust.trusted ? ctx.trust.file : ctx.trust.reason, keys };
}

/** How long a verification answers the banner while the sink's listing is unchanged. */
export const STATUS_TTL_MS = 10_000;

/**
 * The trail's verification, through the audit entry point (the same checks as `charter audit
 * verify`, with the writer's state directory). A verify of a large trail takes seconds, so one
 * result answers the banner until the sink lists other objects (a new checkpoint, a deleted
 * segment) or STATUS_TTL_MS passes (an object changed in place).
 */
class StatusCache {
  private last: { key: string; report: Promise<VerifyReport>; at: string; ms: number } | undefined;

  constructor(private readonly ctx: ConsoleContext) {}

  async status(): Promise<TrailStatus> {
    const { sink, dir } = this.ctx.audit;
    // The console's own access records (this very page view) are sealed before the trail is read.
    await this.ctx.access.settled();
    const objects = [...(await sink.list('segments/')), ...(await sink.list('checkpoints/'))];
    const key = objects.map((o) => o.key).join('\n');
    if (this.last?.key !== key || Date.now() - this.last.ms > STATUS_TTL_MS) {
      const report = verifyAuditLog({ sink, trustedKeys: this.ctx.trust.keys, stateDir: dir });
      report.catch(() => undefined);
      this.last = { key, report, at: new Date().toISOString(), ms: Date.now() };
    }
    const report = await this.last.report;
    const failing = new Map<string, Set<string>>();
    for (const f of report.findings) {
      const at = f.key ?? '(trail)';
      failing.set(at, (failing.get(at) ?? new Set()).add(f.kind));
    }
    return {
      ok: report.ok && this.ctx.trust.trusted,
      trusted: this.ctx.trust.trusted,
      untrustedReason: this.ctx.trust.trusted ? null : this.ctx.trust.reason,
      checkedAt: this.last.at,
      treeSize: report.treeSize,
      failing: [...failing].map(([k, kinds]) => ({ key: k, kinds: [...kinds] })),
      findings: report.findings.length,
    };
  }
}

/**
 * The Trail pages' API (auditors): the list with filters and keyset paging, one record with
 * its inclusion proof, the verification banner, and evidence bundle export. Each page view and
 * the export are recorded in the trail before they are answered.
 */
export const trailRoutes: RouteModule = (app, ctx) => {
  const status = new StatusCache(ctx);

  app.get('/api/trail', { config: READ }, async (req): Promise<TrailPage> => {
    const started = performance.now();
    const filter: TrailFilter = req.query as TrailFilter;
    const query = queryOf(req.query as Record<string, unknown>, (t) => tenantScope(req.viewer, t));
    const records = await queryAudit({ ...ctx.audit, ...query, order: 'desc', limit: PAGE_SIZE + 1 });
    const rows = records.slice(0, PAGE_SIZE).map(rowOf);
    const { cursor: _cursor, ...shown } = filter;
    await ctx.access.record(req.viewer, {
      what: 'trail.list',
      tenantId: query.tenant ?? null,
      subject: new URLSearchParams(shown as Record<string, string>).toString() || '(all)',
      details: { rows: rows.length, ...(query.after ? { after: cursorOf(query.after) } : {}) },
    });
    return { rows, next: records.length > PAGE_SIZE ? cursorOf(rows[rows.length - 1]!) : null, elapsedMs: performance.now() - started };
  });

  app.get('/api/trail/records/:id', { config: READ }, async (req): Promise<RecordView> => {
    const { id } = req.params as { id: string };
    const missing = new NotFound(`record ${id}`);
    let proof;
    try {
      proof = await proveInclusion({ ...ctx.audit, recordId: id });
    } catch (err) {
      if (err instanceof InputError) throw missing;
      throw err;
    }
    if (!visible(req.viewer, proof.record.tenantId)) throw missing;
    await ctx.access.record(req.viewer, { what: 'trail.record', tenantId: proof.record.tenantId, subject: id });
    return {
      record: proof.record as RecordView['record'],
      proof: { treeSize: proof.treeSize, auditPath: proof.auditPath, checkpoint: proof.checkpoint },
      trust: trustInfo(ctx),
    };
  });

  app.get('/api/trail/status', { config: READ }, (): Promise<TrailStatus> => status.status());

  app.post('/api/trail/export', { config: READ }, async (req, reply: FastifyReply) => {
    const body = (req.body ?? {}) as Partial<ExportRequest>;
    const tenant = tenantScope(req.viewer, typeof body.tenant === 'string' && body.tenant ? body.tenant : undefined);
    if (!tenant) throw new InputError('an evidence bundle is for one tenant: name it', { field: 'tenant' });
    const from = typeof body.from === 'string' && body.from ? body.from : undefined;
    const to = typeof body.to === 'string' && body.to ? body.to : undefined;
    await ctx.access.record(req.viewer, { what: 'trail.export', tenantId: tenant, subject: `${tenant} ${from ?? '-'}..${to ?? '-'}` });
    const bundle = await exportEvidenceBundle({ ...ctx.audit, tenant, from, to, trustedKeys: ctx.trust.keys });
    return reply
      .header('content-disposition', `attachment; filename="evidence-${tenant}.json"`)
      .type('application/json')
      .send(JSON.stringify(bundle, null, 2));
  });
};
