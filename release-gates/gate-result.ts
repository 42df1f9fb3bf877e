import type { Enforcement } from './gate-definition.js';

export type GateName =
  'promotion-order' | 'pack-versions' | 'tests' | 'secrets' | 'cedar' | 'dependencies' | 'evals' | 'replay' | 'canary' | 'approval';

/** What a check found: `not-run` means it could not be carried out (never counted as a pass). */
export type CheckStatus = 'pass' | 'fail' | 'not-run';

export interface CheckOutcome {
  status: CheckStatus;
  /** One line a release manager reads in the table. */
  summary: string;
  /** Why it failed or did not run, each reason on its own. */
  reasons: string[];
  /** Machine-readable evidence kept in the release record. */
  evidence: Record<string, unknown>;
  /** What a release manager should see but that does not decide the gate (e.g. eval regressions in `warn` mode). */
  warnings?: string[];
  /**
   * For `not-run`: the checks that could not be made, as waiver keys (`dependencies`, or one
   * item such as `evals:<suite>/<metric>`). Only these can be waived, each by name.
   */
  unchecked?: string[];
}

/** Signed release approvals that accept a `not-run` gate's unchecked items. */
export interface Waiver {
  approvers: string[];
  items: Array<{ check: string; reasons: string[] }>;
}

export interface GateResult extends CheckOutcome {
  gate: GateName;
  enforcement: Enforcement;
  /** Whether this gate stops the release: a required gate that did not pass and was not waived. */
  blocking: boolean;
  waiver: Waiver | null;
}

export function gateResult(gate: GateName, enforcement: Enforcement, outcome: CheckOutcome, waiver: Waiver | null = null): GateResult {
  return { gate, enforcement, ...outcome, blocking: enforcement === 'required' && outcome.status !== 'pass' && waiver === null, waiver };
}

export const pass = (summary: string, evidence: Record<string, unknown> = {}): CheckOutcome => ({
  status: 'pass',
  summary,
  reasons: [],
  evidence,
});
export const fail = (summary: string, reasons: string[], evidence: Record<string, unknown> = {}): CheckOutcome => ({
  status: 'fail',
  summary,
  reasons,
  evidence,
});
export const notRun = (summary: string, reasons: string[], evidence: Record<string, unknown> = {}, unchecked?: string[]): CheckOutcome => ({
  status: 'not-run',
  summary,
  reasons,
  evidence,
  ...(unchecked ? { unchecked } : {}),
});
