/**
 * console: `charter console`, a web application on loopback over a Charter home for auditors,
 * approvers, security and ML engineers. A typed HTTP API (fastify; one route module per page
 * under routes/, each behind the one guard in guard.ts) over the same domain entry points the
 * CLI uses, and a front end (console/web: Vite, React, Radix Themes) built by `npm run build`.
 */
export { AccessLog, type Access, type OpenWriter } from './access-log.js';
export type * from './api-types.js';
export type { AuditorTrust, ConsoleContext, RouteModule } from './context.js';
export { NotFound, tenantScope, visible } from './guard.js';
export {
  ALL_TENANTS,
  CONSOLE_ROLES,
  CONSOLE_TOKEN_HOURS,
  ConsoleSignIn,
  LOCAL_CONSOLE_IDP,
  localConsoleIdentity,
  mintConsoleToken,
  type ConsoleRole,
  type MintOptions,
  type Viewer,
} from './identity.js';
export { buildConsoleApp, startConsole, WEB_ROOT, type ConsoleAppOptions, type RunningConsole } from './server.js';
