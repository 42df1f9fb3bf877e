import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CharterError } from '../common/index.js';
import type { ConsoleRole, ConsoleSignIn, Viewer } from './identity.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in viewer; set by the guard before any /api handler runs. */
    viewer: Viewer;
  }
  interface FastifyContextConfig {
    /** The roles that may call this route: every /api route must name them (the server refuses to start otherwise). */
    roles?: readonly ConsoleRole[];
  }
}

/** A 404 whose body is the same whether the thing is missing or belongs to a tenant the viewer cannot see. */
export class NotFound extends Error {
  constructor(what: string) {
    super(`no ${what}`);
  }
}

/**
 * The one guard of the console's API. Every route under /api declares `config.roles`; an
 * `onRoute` hook refuses to register one that does not, so no route can forget the guard.
 * Per request: a bearer token (`Authorization: Bearer ...`) verified by the gateway's identity
 * code, else 401; a role the route does not name, else 403 (roles are not secret; tenants are).
 * Tenant scope is applied by the route through `tenantScope`/`visible`, which answer 404 for
 * another tenant's things so an id or name never tells whether it exists.
 */
export function installGuard(app: FastifyInstance, signIn: ConsoleSignIn): void {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && !route.config?.roles?.length)
      throw new Error(`console route ${route.method} ${route.url} declares no roles (config.roles)`);
  });
  app.decorateRequest('viewer', undefined as unknown as Viewer);
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const roles = req.routeOptions.config.roles;
    if (!req.url.startsWith('/api/') || !roles) return;
    const header = req.headers.authorization ?? '';
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header)?.[1];
    if (!token) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'sign in: no bearer token' });
    try {
      req.viewer = await signIn.viewer(token);
    } catch (err) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer error="invalid_token"')
        .send({ error: err instanceof CharterError ? err.message : 'token rejected' });
    }
    if (!roles.includes(req.viewer.role))
      return reply.code(403).send({ error: `this page needs the role ${roles.join(' or ')}; you signed in as ${req.viewer.role}` });
  });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof NotFound) return reply.code(404).send({ error: err.message });
    if (err instanceof CharterError && err.exitCode === 2) return reply.code(400).send({ error: err.message });
    // A finding: the domain refused the act (the requester, the packs' approver scope, a signature that does not verify).
    if (err instanceof CharterError && err.exitCode === 1) return reply.code(409).send({ error: err.message });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).send({ error: (err as Error).message });
    app.log.error(err);
    return reply.code(500).send({ error: 'internal error (see the console log)' });
  });
}

/**
 * The tenant a request may read: the viewer's own when scoped (asking for another is a 404,
 * the same answer as a tenant that does not exist), else what was asked (undefined: all).
 */
export function tenantScope(viewer: Viewer, requested: string | undefined): string | undefined {
  if (viewer.tenant === undefined) return requested;
  if (requested !== undefined && requested !== viewer.tenant) throw new NotFound(`tenant ${requested}`);
  return viewer.tenant;
}

/** Whether a thing of `tenant` (null: no tenant, platform-wide) is visible to the viewer. */
export const visible = (viewer: Viewer, tenant: string | null): boolean => viewer.tenant === undefined || viewer.tenant === tenant;
