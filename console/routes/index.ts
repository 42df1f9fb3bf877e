import type { RouteModule } from '../context.js';
import { approvalRoutes } from './approvals.js';
import { insightRoutes } from './insight.js';
import { sessionRoutes } from './session.js';
import { trailRoutes } from './trail.js';

/**
 * Every page's API, one module per page (console/README.md says how to add one). Each route
 * declares `config.roles`; the guard (../guard.ts) signs the caller in and checks the role.
 */
export const ROUTES: RouteModule[] = [sessionRoutes, trailRoutes, approvalRoutes, insightRoutes];
