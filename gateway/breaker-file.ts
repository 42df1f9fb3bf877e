import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage, readJson, writeFileAtomic, type BreakerBoard, type BreakerChange } from '../common/index.js';
import { evidenceRecord, type EvidenceRecord } from '../audit/index.js';
import { digestJson } from '../signing/index.js';
import type { DecisionSink } from './decide.js';

const Entry = z.strictObject({
  breaker: z.string(),
  key: z.string(),
  tenantId: z.string().nullable(),
  state: z.enum(['closed', 'open', 'half-open']),
  /** When it entered that state. */
  since: z.string(),
  failures: z.number().int().nonnegative(),
  reason: z.string(),
  /** The process whose breaker it is (a breaker lives in one process's memory). */
  pid: z.number().int(),
});
export type BreakerEntry = z.infer<typeof Entry>;
const BreakersDoc = z.strictObject({ breakers: z.array(Entry) });

/** The evidence record of a breaker that changed state: in the audit trail, with the tenant when the key has one. */
export function breakerEvidence(change: BreakerChange): EvidenceRecord {
  const document = { ...change, pid: process.pid };
  return evidenceRecord({
    evidenceType: 'breaker',
    digest: digestJson(document),
    subject: `breaker:${change.breaker}:${change.key}`,
    summary: `breaker ${change.breaker} ${change.key} ${change.from} -> ${change.to} after ${change.failures} failure(s): ${change.reason}`,
    document,
    runId: null,
    tenantId: change.tenantId,
  });
}

/**
 * `$CHARTER_HOME/breakers.json`: the last state change of every breaker key the home's processes
 * saw (`charter negotiations breakers` lists it). Written on each change, atomically; processes
 * writing at the same instant can lose one another's entry (the audit trail still has both).
 */
export class BreakerFile {
  constructor(readonly file: string) {}

  static inHome(home: string): BreakerFile {
    return new BreakerFile(join(home, 'breakers.json'));
  }

  read(): BreakerEntry[] {
    return existsSync(this.file) ? readJson(this.file, BreakersDoc).breakers : [];
  }

  record(change: BreakerChange): void {
    const entry: BreakerEntry = {
      breaker: change.breaker,
      key: change.key,
      tenantId: change.tenantId,
      state: change.to,
      since: change.at,
      failures: change.failures,
      reason: change.reason,
      pid: process.pid,
    };
    const others = this.read().filter((e) => e.breaker !== change.breaker || e.key !== change.key);
    writeFileAtomic(this.file, `${JSON.stringify({ breakers: [...others, entry] }, null, 2)}\n`);
  }
}

/**
 * Records every state change of the board's breakers: an evidence record in the audit trail and
 * the home's breakers.json. Returns the unsubscribe. Recording never fails the call that tripped
 * the breaker: a failure to record is warned.
 */
export function recordBreakerChanges(
  board: BreakerBoard,
  to: { audit: DecisionSink; file?: BreakerFile; warn?: (message: string) => void },
): () => void {
  const warn = to.warn ?? (() => undefined);
  return board.onChange((change) => {
    try {
      to.file?.record(change);
    } catch (err) {
      warn(`breakers.json not updated: ${errorMessage(err)}`);
    }
    to.audit
      .append(breakerEvidence(change))
      .catch((err: unknown) => warn(`breaker change not recorded in the audit trail: ${errorMessage(err)}`));
  });
}
