import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Manifest } from '../policy-packs/index.js';
import { fail, pass, type CheckOutcome } from './gate-result.js';

export interface CedarFinding {
  policy: string;
  file: string;
  rule: 'unconditional-permit-on-high-risk-tool' | 'constant-condition-permit-on-high-risk-tool' | 'policy-does-not-parse';
  tools: string[];
  message: string;
}

const HIGH_RISK = new Set(['write-high', 'critical']);
const actionKey = (type: string, id: string) => `${type}::"${id}"`;

/** Every action group an action belongs to, transitively (from the schema's `memberOf`). */
function actionAncestors(schemaText: string): Map<string, Set<string>> {
  const json = cedar.schemaToJson(schemaText);
  if (json.type === 'failure') return new Map();
  const parents = new Map<string, string[]>();
  for (const [ns, def] of Object.entries(
    json.json as Record<string, { actions?: Record<string, { memberOf?: Array<{ id: string; type?: string }> }> }>,
  )) {
    for (const [id, action] of Object.entries(def.actions ?? {})) {
      parents.set(
        actionKey(`${ns}::Action`, id),
        (action.memberOf ?? []).map((m) => actionKey(m.type ?? `${ns}::Action`, m.id)),
      );
    }
  }
  const out = new Map<string, Set<string>>();
  for (const key of parents.keys()) {
    const seen = new Set<string>();
    const stack = [...(parents.get(key) ?? [])];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...(parents.get(p) ?? []));
    }
    out.set(key, seen);
  }
  return out;
}

/** Whether a condition's expression reads the request at all (a `Var` or a template slot anywhere in its JSON). */
function readsRequest(expr: unknown): boolean {
  if (Array.isArray(expr)) return expr.some(readsRequest);
  if (expr === null || typeof expr !== 'object') return false;
  return Object.entries(expr).some(([k, v]) => k === 'Var' || k === 'Slot' || readsRequest(v));
}

type EntityRef = { type: string; id: string };
type ActionScope = { op: 'All' } | { op: '=='; entity: EntityRef } | { op: 'in'; entity?: EntityRef; entities?: EntityRef[] };

/**
 * Static findings over the candidate's Cedar policies (cedar-wasm has no linter, so the
 * policies are read through `policyToJson`): a `permit` with no `when`/`unless` condition, or
 * only conditions that read nothing of the request, whose action scope reaches a write-high or
 * critical tool grants that tool with no approval at all.
 */
export function cedarFindings(manifest: Manifest): CedarFinding[] {
  const ancestors = actionAncestors(manifest.schema.text);
  const highRisk = manifest.tools.filter((t) => HIGH_RISK.has(t.tier));
  const findings: CedarFinding[] = [];
  for (const [id, policy] of Object.entries(manifest.policies)) {
    const parsed = cedar.policyToJson(policy.text);
    if (parsed.type === 'failure') {
      findings.push({
        policy: id,
        file: policy.file,
        rule: 'policy-does-not-parse',
        tools: [],
        message: parsed.errors.map((e) => e.message).join('; '),
      });
      continue;
    }
    const est = parsed.json as { effect: string; action: ActionScope; conditions: Array<{ body: unknown }> };
    // A condition that reads nothing of the request (`when { true }`, `unless { 1 == 2 }`) is
    // the same for every call: such a permit is as unconditioned as one with no condition
    // (or never applies, which a reviewer should see too).
    const constant = est.conditions.length > 0 && est.conditions.every((c) => !readsRequest(c.body));
    if (est.effect !== 'permit' || (est.conditions.length > 0 && !constant)) continue;
    const scope = est.action;
    const targets =
      scope.op === 'All' ? null : scope.op === '==' ? [scope.entity] : [...(scope.entity ? [scope.entity] : []), ...(scope.entities ?? [])];
    const covered = highRisk.filter((t) => {
      if (targets === null) return true;
      const reach = new Set([t.action, ...(ancestors.get(t.action) ?? [])]);
      return targets.some((e) => reach.has(actionKey(e.type, e.id)));
    });
    if (covered.length > 0) {
      const names = covered.map((t) => `${t.name} (${t.tier})`);
      findings.push({
        policy: id,
        file: policy.file,
        rule: constant ? 'constant-condition-permit-on-high-risk-tool' : 'unconditional-permit-on-high-risk-tool',
        tools: covered.map((t) => t.name),
        message: `permit ${constant ? 'whose condition is constant (reads nothing of the request)' : 'with no condition'} on ${names.join(', ')}`,
      });
    }
  }
  return findings;
}

export function checkCedar(manifest: Manifest): CheckOutcome {
  const findings = cedarFindings(manifest);
  const evidence = { policies: Object.keys(manifest.policies).length, findings };
  const summary = `${findings.length} finding(s) in ${Object.keys(manifest.policies).length} policies`;
  return findings.length
    ? fail(
        summary,
        findings.map((f) => `${f.policy} (${f.file}): ${f.message}`),
        evidence,
      )
    : pass(summary, evidence);
}
