import { cedar } from './cedar.js';
import type { PackPolicy } from './load.js';

export type StrictValidation =
  | { type: 'success'; errors: Array<{ policy: PackPolicy; error: cedar.DetailedError }> }
  | { type: 'failure'; errors: cedar.DetailedError[] };

/**
 * Cedar strict validation with answers kept per (schema text, policy). Cedar validates each
 * static policy on its own against the schema, so a policy's errors do not depend on the other
 * policies of the set; parsing the schema is most of a validate call, though. The first check
 * against a schema therefore validates every candidate policy in one call (every agent set of a
 * domain shares its schema), and later sets are answered from that.
 */
export class PolicyValidator {
  private readonly bySchema = new Map<string, Map<PackPolicy, cedar.DetailedError[]>>();

  constructor(private readonly candidates: readonly PackPolicy[] = []) {}

  check(schemaText: string, policies: readonly PackPolicy[]): StrictValidation {
    let known = this.bySchema.get(schemaText);
    const missing = policies.filter((p) => !known?.has(p));
    if (missing.length > 0) {
      const batch = [...new Set([...missing, ...this.candidates.filter((p) => !known?.has(p))])];
      let answer = validateAll(schemaText, batch);
      // A candidate outside this set must not fail the set: fall back to the set's own policies.
      if (answer.type === 'failure' && batch.length > missing.length) answer = validateAll(schemaText, missing);
      if (answer.type === 'failure') return answer;
      known ??= new Map();
      for (const [p, errors] of answer.errors) known.set(p, errors);
      this.bySchema.set(schemaText, known);
    }
    return { type: 'success', errors: policies.flatMap((policy) => known!.get(policy)!.map((error) => ({ policy, error }))) };
  }
}

function validateAll(
  schemaText: string,
  policies: readonly PackPolicy[],
): { type: 'success'; errors: Map<PackPolicy, cedar.DetailedError[]> } | { type: 'failure'; errors: cedar.DetailedError[] } {
  // Positional ids: several versions of a pack may share policy ids.
  const staticPolicies: Record<string, string> = {};
  policies.forEach((p, i) => (staticPolicies[`p${i}`] = p.text));
  const out = cedar.validate({ schema: schemaText, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  if (out.type === 'failure') return out;
  const errors = new Map(policies.map((p) => [p, [] as cedar.DetailedError[]]));
  for (const e of out.validationErrors) errors.get(policies[Number(e.policyId.slice(1))]!)!.push(e.error);
  return { type: 'success', errors };
}
