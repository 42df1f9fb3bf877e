import { FindingError } from '../common/index.js';
import { cedar, cedarErrorText } from './cedar.js';
import { leadingTokensEnd } from './load.js';

const EFFECT = /(?:permit|forbid)\s*\(/y;
const GUARD = /(?:\s+|\/\/[^\n]*)*when\s*\{\s*context\s*\.\s*tenant\s*==\s*Charter::Tenant::"([^"\\]*)"\s*\}/y;

/** Where the scope that opens at `i` (just after its `(`) closes, just after its `)`; strings and comments skipped. */
function scopeEnd(text: string, i: number): number | undefined {
  for (let depth = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return undefined;
}

/**
 * The tenant a policy Cedar has parsed is confined to by a leading guard: its first condition is
 * exactly `when { context.tenant == Charter::Tenant::"id" }`, right after the scope. Cedar
 * evaluates the scope, then the conditions in order, all joined by `&&`, which stops at the first
 * false; `==` never errors and every request's context has `tenant`. So for a request of another
 * tenant such a policy is neither satisfied nor erroring: leaving it out of the set Cedar is asked
 * changes neither the decision nor its determining policies nor its errors.
 * The plain reading accepts only that exact form (a comment inside the clause, an escape in an
 * annotation or the id, the literal first: no guard). A policy without one is asked on every
 * request, so a reading that says "no guard" costs time, never an answer. Asking Cedar for each
 * policy's JSON would cost more than the decisions saved (about 1 ms a policy).
 */
export function tenantGuardOf(text: string): string | undefined {
  EFFECT.lastIndex = leadingTokensEnd(text);
  if (!EFFECT.exec(text)) return undefined;
  const end = scopeEnd(text, EFFECT.lastIndex);
  if (end === undefined) return undefined;
  GUARD.lastIndex = end;
  return GUARD.exec(text)?.[1];
}

/**
 * A policy set split by tenant guard (see tenantGuardOf): the policies without one, asked on
 * every request, and per tenant the policies confined to it. A request of tenant T is asked of
 * the unguarded policies and T's, pre-parsed in Cedar on the first request of T. Sets where
 * thousands of policies are each confined to one tenant then cost per request what one tenant's
 * share costs. Cedar still decides every request; only policies that cannot apply are left out.
 */
export class TenantSlices {
  private readonly sets = new Map<string, string>();

  private constructor(
    private readonly id: string,
    private readonly common: Record<string, string>,
    private readonly byTenant: Map<string, Record<string, string>>,
  ) {}

  /**
   * Splits `policies` (each one Cedar has parsed); undefined when no policy has a tenant guard
   * (the whole set is asked). The unguarded policies are pre-parsed here, a tenant's on its first request.
   */
  static build(id: string, policies: Readonly<Record<string, string>>): TenantSlices | undefined {
    const common: Record<string, string> = {};
    const byTenant = new Map<string, Record<string, string>>();
    for (const [pid, text] of Object.entries(policies)) {
      const tenant = tenantGuardOf(text);
      if (tenant === undefined) common[pid] = text;
      else {
        let own = byTenant.get(tenant);
        if (!own) byTenant.set(tenant, (own = {}));
        own[pid] = text;
      }
    }
    if (byTenant.size === 0) return undefined;
    const out = new TenantSlices(id, common, byTenant);
    out.setFor(undefined);
    return out;
  }

  /** How many tenants have policies of their own. */
  get tenants(): number {
    return this.byTenant.size;
  }

  /** The pre-parsed set a request of `tenant` is asked of (undefined: a tenant with no policies of its own). */
  setFor(tenant: string | undefined): string {
    const own = tenant === undefined ? undefined : this.byTenant.get(tenant);
    const key = own ? tenant! : '';
    let setId = this.sets.get(key);
    if (setId === undefined) {
      setId = own ? `${this.id}@tenant:${JSON.stringify(tenant)}` : `${this.id}@unguarded`;
      const pset = cedar.preparsePolicySet(setId, { staticPolicies: own ? { ...this.common, ...own } : this.common });
      if (pset.type === 'failure') throw new FindingError(`policy set ${setId} does not parse: ${cedarErrorText(pset.errors).join('; ')}`);
      this.sets.set(key, setId);
    }
    return setId;
  }
}
