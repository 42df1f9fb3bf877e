import { spawn } from 'node:child_process';
import { FindingError } from '../common/index.js';
import type { ApprovalReminder } from './runtime.js';

/** A reminder hook that POSTs the reminder as JSON to `url`; anything but a 2xx answer within `timeoutMs` is a failure (retried). */
export function webhookReminder(url: string, timeoutMs = 10_000): (r: ApprovalReminder) => Promise<void> {
  return async (r) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(r),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) throw new FindingError(`reminder webhook ${url} answered ${res.status}`);
  };
}

/**
 * A reminder hook that runs `command` through the shell, with the reminder as JSON on stdin and
 * its fields in CHARTER_TENANT, CHARTER_NEGOTIATION, CHARTER_APPROVAL_ID and CHARTER_DEADLINE; a
 * non-zero exit, or no exit within `timeoutMs`, is a failure (retried).
 */
export function commandReminder(command: string, timeoutMs = 30_000): (r: ApprovalReminder) => Promise<void> {
  return (r) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, {
        shell: true,
        stdio: ['pipe', 'ignore', 'inherit'],
        timeout: timeoutMs,
        env: {
          ...process.env,
          CHARTER_TENANT: r.tenantId,
          CHARTER_NEGOTIATION: r.negotiationId,
          CHARTER_APPROVAL_ID: r.approvalId,
          CHARTER_DEADLINE: r.deadline,
        },
      });
      child.once('error', reject);
      child.stdin.on('error', () => undefined); // a command that does not read stdin is not a failure
      child.once('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new FindingError(`reminder command exited ${code ?? signal}: ${command}`)),
      );
      child.stdin.end(JSON.stringify(r) + '\n');
    });
}
