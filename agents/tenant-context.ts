import { AsyncLocalStorage } from 'node:async_hooks';
import { FindingError } from '../common/index.js';

/**
 * Tenant identity as an ambient request context (seed 000, "what we'd do differently"): the
 * factory binds it when an agent is built, every invocation runs inside it, and the tool path
 * reads it from here, so no tool author can forget to pass it and no caller can swap it.
 */
export interface TenantContext {
  tenantId: string;
  agent: string;
  negotiationId?: string;
  traceId?: string;
}

const storage = new AsyncLocalStorage<TenantContext>();

export function runWithTenant<T>(ctx: TenantContext, fn: () => T): T {
  const outer = storage.getStore();
  // A nested run may narrow the context (add a negotiation) but never change the tenant.
  if (outer && outer.tenantId !== ctx.tenantId) {
    throw new FindingError(`tenant context violation: '${ctx.tenantId}' inside a run of tenant '${outer.tenantId}'`);
  }
  return storage.run(ctx, fn);
}

/** The current tenant context; calling a tool outside one is a programming error and fails closed. */
export function currentTenant(): TenantContext {
  const ctx = storage.getStore();
  if (!ctx) throw new FindingError('no tenant context: tool calls must run inside an agent invocation');
  return ctx;
}
