import { evidenceRecord, type AuditLog } from '../audit/index.js';
import { digestJson } from '../signing/index.js';
import type { Viewer } from './identity.js';

/** Opens the home's audit log for a moment (the one writer lock is held only while records are written). */
export type OpenWriter = () => Promise<AuditLog>;

/** What one console access was: a page view of the trail or an action, with what it named. */
export interface Access {
  /** e.g. `trail.list`, `trail.record`, `trail.export`. */
  what: string;
  /** The tenant the access concerns (the viewer's scope, or the record's tenant), else null. */
  tenantId: string | null;
  /** The record id, export period or query the access named. */
  subject: string;
  details?: Record<string, unknown>;
}

/** Idle time after the last access before the log is closed (and its records sealed). */
const IDLE_CLOSE_MS = 500;

/**
 * Every page view of the trail and every action in the console is an audit record
 * (`console-access` evidence) written through the audit entry point to the home's sink. The log
 * is opened on the first access and closed when accesses stop for a moment, so other writers of
 * the home (negotiations, releases, the gateway) can take the lock between them. An access that
 * cannot be recorded (the log is held by a running writer, the sink is down) is refused by the
 * route that asked: nothing is shown that was not recorded.
 */
export class AccessLog {
  private log: Promise<AuditLog> | undefined;
  private closing: Promise<void> = Promise.resolve();
  private pending = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly open: OpenWriter,
    private readonly warn: (err: unknown) => void,
  ) {}

  async record(viewer: Viewer, access: Access): Promise<void> {
    const document = {
      viewer: { name: viewer.name, role: viewer.role, tenant: viewer.tenant ?? '*' },
      what: access.what,
      subject: access.subject,
      ...(access.details ? { details: access.details } : {}),
    };
    const record = evidenceRecord({
      evidenceType: 'console-access',
      digest: digestJson(document),
      subject: access.subject,
      summary: `${viewer.role} ${viewer.name}: ${access.what} ${access.subject}`,
      document,
      runId: null,
      tenantId: access.tenantId,
    });
    clearTimeout(this.idle);
    this.pending++;
    try {
      this.log ??= this.closing.then(() => this.open());
      const log = await this.log.catch((err: unknown) => {
        this.log = undefined;
        throw err;
      });
      await log.append(record);
    } finally {
      if (--this.pending === 0) this.idle = setTimeout(() => this.close().catch(this.warn), IDLE_CLOSE_MS);
    }
  }

  /**
   * Resolves once no access is being written and what was written is sealed: until then the
   * home's index is ahead of the sink's checkpoints, and a verify of the trail would report it.
   */
  async settled(): Promise<void> {
    while (this.pending > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.close();
  }

  /** Seals what was recorded and releases the log. */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    const log = this.log;
    this.log = undefined;
    if (!log) return;
    const done = log.then((l) => l.close());
    this.closing = done.catch(() => undefined);
    await done;
  }
}
