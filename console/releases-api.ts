import { PROMOTION_ORDER, releaseContext, type ReplayFlip } from '../release-gates/index.js';
import type { Viewer } from './approvals-api.js';
import type { ReleaseEntry } from './pages-types.js';

export interface ReleaseCell {
  environment: string;
  agent: string;
  current:
    | (ReleaseEntry & {
        gates: unknown[];
        approvals: unknown[];
        evalReports: Array<{ suite: string; digest: string }>;
        flips: ReplayFlip[];
        replay: unknown;
        canary: unknown;
      })
    | null;
  history: ReleaseEntry[];
}

/**
 * The environment x agent matrix of releases: each cell's current record (verified: signature
 * and history chain, by the release store) with its gates, their evidence summaries and waivers
 * (who and for which items), approvals, eval reports and replay flips (deny -> allow first),
 * and the history of promotions and rollbacks, newest first. Replay flips of other tenants are
 * left out for a tenant-scoped viewer.
 */
export function releaseMatrix(home: string, viewer: Viewer): { environments: string[]; agents: string[]; cells: ReleaseCell[] } {
  const ctx = releaseContext({ home });
  const environments = Object.keys(PROMOTION_ORDER);
  const agents = [...new Set(environments.flatMap((env) => ctx.store.agents(env as keyof typeof PROMOTION_ORDER)))].sort();
  const cells: ReleaseCell[] = [];
  for (const environment of environments) {
    const env = environment as keyof typeof PROMOTION_ORDER;
    for (const agent of agents) {
      const signed = ctx.store.history(env, agent, ctx.trusted);
      const history = signed.map((s): ReleaseEntry => ({
        action: s.record.action,
        manifestDigest: s.record.manifestDigest,
        recordDigest: s.digest,
        releasedAt: s.record.releasedAt,
        releasedBy: s.record.releasedBy,
        reason: s.record.reason,
      }));
      const r = signed.at(-1)?.record;
      const flips = ((r?.replay as { flips?: { list?: ReplayFlip[] } } | null)?.flips?.list ?? [])
        .filter((f) => viewer.tenant === undefined || f.tenant === viewer.tenant)
        .sort((a, b) => Number(b.from === 'deny' && b.to === 'allow') - Number(a.from === 'deny' && a.to === 'allow'));
      cells.push({
        environment,
        agent,
        current: r
          ? {
              ...history.at(-1)!,
              gates: r.gates,
              approvals: r.approvals,
              evalReports: r.evalReports.map(({ suite, digest }) => ({ suite, digest })),
              flips,
              replay: r.replay ? { ...r.replay, flips: undefined } : null,
              canary: r.canary,
            }
          : null,
        history: history.reverse(),
      });
    }
  }
  return { environments, agents, cells };
}
