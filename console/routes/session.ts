import type { SessionInfo } from '../api-types.js';
import { CONSOLE_ROLES } from '../identity.js';
import type { RouteModule } from '../context.js';

/** GET /api/session: who the token says you are (every role; the sign-in screen checks a pasted token with it). */
export const sessionRoutes: RouteModule = (app) => {
  app.get('/api/session', { config: { roles: CONSOLE_ROLES } }, (req): SessionInfo => {
    const { name, role, tenant } = req.viewer;
    return { name, role, tenant: tenant ?? null };
  });
};
