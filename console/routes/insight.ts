import { InputError } from '../../common/index.js';
import type { RouteModule } from '../context.js';
import { evalReport, evalReports } from '../evals-api.js';
import { manifestDetail, manifestDiff, manifestList } from '../packs-api.js';
import { releaseMatrix } from '../releases-api.js';

const READ = { roles: ['security', 'ml', 'auditor'] } as const;

/** Releases, evals and packs: read-only pages over the release store, the signed eval reports and the home's manifests. */
export const insightRoutes: RouteModule = (app, ctx) => {
  app.get('/api/releases', { config: READ }, (req) => releaseMatrix(ctx.home, req.viewer));
  app.get('/api/evals', { config: READ }, () => evalReports(ctx.home));
  app.get<{ Params: { id: string } }>('/api/evals/reports/:id', { config: READ }, (req) => evalReport(ctx.home, req.params.id));
  app.get('/api/packs/manifests', { config: READ }, () => manifestList(ctx.home));
  app.get<{ Params: { digest: string } }>('/api/packs/manifests/:digest', { config: READ }, (req) =>
    manifestDetail(ctx.home, req.params.digest),
  );
  app.get<{ Querystring: { old?: string; new?: string } }>('/api/packs/diff', { config: READ }, (req) => {
    const { old: a, new: b } = req.query;
    if (!a || !b) throw new InputError('name two manifests: old and new (digests)', { field: a ? 'new' : 'old' });
    return manifestDiff(ctx.home, a, b);
  });
};
