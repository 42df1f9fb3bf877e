/**
 * Retries of a node whose allowed tool call failed (an upstream down for a moment, a broken
 * connection). The same policy as the Step Functions export's Retry, so the DAG behaves alike
 * on one machine and on AWS; nodes are idempotent (bids and writes carry idempotency keys), which
 * is what makes a retry, like a resume, safe.
 */
export interface NodeRetry {
  /** Retries after the first attempt. */
  maxAttempts: number;
  intervalMs: number;
  backoffRate: number;
}
export const NODE_RETRY: NodeRetry = { maxAttempts: 3, intervalMs: 2_000, backoffRate: 2 };
