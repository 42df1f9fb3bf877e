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
  return validateAsText(schemaText, policies) ?? validateAsRecord(schemaText, policies);
}

/**
 * One text of every policy, one a line: Cedar parses a policy set's text about a third faster
 * than the same policies handed one by one, which tells at thousands of policies. Cedar names
 * them policy0, policy1, ... in source order and locates errors in the joined text; each error
 * is moved back to its policy's own text. Undefined when an answer names a policy that is not
 * there (then the policies are validated one by one).
 */
function validateAsText(schemaText: string, policies: readonly PackPolicy[]) {
  const starts: number[] = [];
  let text = '';
  for (const p of policies) {
    starts.push(text.length);
    text += `${p.text}\n`;
  }
  const out = cedar.validate({ schema: schemaText, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (out.type === 'failure') return undefined;
  const errors = new Map(policies.map((p) => [p, [] as cedar.DetailedError[]]));
  for (const e of out.validationErrors) {
    const k = /^policy(\d+)$/.exec(e.policyId)?.[1];
    const policy = k === undefined ? undefined : policies[Number(k)];
    if (!policy) return undefined;
    const start = starts[Number(k)]!;
    const sourceLocations = e.error.sourceLocations?.map((l) => ({ ...l, start: l.start - start, end: l.end - start }));
    if (sourceLocations?.some((l) => l.start < 0 || l.end > policy.text.length)) return undefined;
    errors.get(policy)!.push(sourceLocations ? { ...e.error, sourceLocations } : e.error);
  }
  return { type: 'success' as const, errors };
}

function validateAsRecord(
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
