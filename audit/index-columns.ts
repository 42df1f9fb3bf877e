import type { SealedRecord } from './record.js';

/**
 * The filter columns of the index and the value a record has in each: what the index stores
 * (index-db.ts), what a query result must match (query.ts) and what verify compares each row
 * with (segment-check.ts, on worker threads: so this module imports nothing heavy).
 */
export const FILTER_COLUMNS = ['tenant', 'agent', 'tool', 'decision', 'tier', 'kind', 'traceId', 'manifestDigest'] as const;
export type FilterColumn = (typeof FILTER_COLUMNS)[number];

export function filterValues(r: SealedRecord): Record<FilterColumn, string | null> {
  const d = r.kind === 'decision' ? r : undefined;
  return {
    tenant: r.tenantId,
    agent: d?.agentId ?? null,
    tool: d?.tool ?? null,
    decision: d?.decision ?? null,
    tier: d?.tier ?? null,
    kind: r.kind,
    traceId: r.traceId,
    manifestDigest: r.kind === 'decision' ? r.manifestDigest : /^sha256:[0-9a-f]{64}$/.test(r.subject) ? r.subject : null,
  };
}
