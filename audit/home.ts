import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { homeConfigFile, readText, readYaml, writeFileAtomic } from '../common/index.js';
import { openAuditLog, type AuditLog, type AuditLogOptions } from './log.js';
import type { SegmentSink } from './sinks/sink.js';
import { sinkFromUri } from './sinks/uri.js';

/**
 * Where a Charter home's audit trail goes: one setting for every writer (gateway,
 * negotiations and their agent processes, evals, releases, approvals and kill switches reach
 * the trail through these) and every reader. `$CHARTER_HOME/config.yaml`:
 *
 *   audit:
 *     sink: s3://bucket/prefix      # or `local` (default): the development directory sink
 *     endpoint: http://127.0.0.1:7480
 *     region: us-east-1
 *     retentionDays: 365
 *
 * The environment (CHARTER_AUDIT_SINK, CHARTER_AUDIT_S3_ENDPOINT) overrides the file, and a
 * command's flag (--sink, --s3-endpoint, --retention-days) overrides both.
 */
export const AuditConfig = z
  .object({
    sink: z.string().min(1).default('local'),
    endpoint: z.string().url().optional(),
    region: z.string().min(1).optional(),
    retentionDays: z.number().int().positive().default(365),
    /** Static keys, for the project's local Object Lock server only; on AWS use the credentials chain. */
    credentials: z
      .object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) })
      .strict()
      .optional(),
    /** State directory of the local Object Lock server that holds the trail (the demo's), to restart it. */
    localServer: z.string().min(1).optional(),
  })
  .strict();
export type AuditConfig = z.infer<typeof AuditConfig>;

/** Other sections of the file belong to other parts of Charter. */
const HomeConfig = z.object({ audit: AuditConfig.optional() }).passthrough();

/** Flag values that override the home's setting. */
export interface AuditOverrides {
  sink?: string | undefined;
  endpoint?: string | undefined;
  retentionDays?: number | undefined;
}

/** The home's audit setting with environment and flags applied. */
export function auditSettings(home: string, overrides: AuditOverrides = {}): AuditConfig {
  const file = homeConfigFile(home);
  const fromFile = existsSync(file) ? (readYaml(file, HomeConfig).audit ?? AuditConfig.parse({})) : AuditConfig.parse({});
  const env = (name: string): string | undefined => process.env[name] || undefined;
  const sink = overrides.sink ?? env('CHARTER_AUDIT_SINK') ?? fromFile.sink;
  const endpoint = overrides.endpoint ?? env('CHARTER_AUDIT_S3_ENDPOINT') ?? fromFile.endpoint;
  return {
    ...fromFile,
    sink,
    ...(endpoint ? { endpoint } : {}),
    retentionDays: overrides.retentionDays ?? fromFile.retentionDays,
  };
}

/** Records the audit setting in the home's config.yaml, keeping the file's other sections and comments. */
export function writeAuditSettings(home: string, audit: Partial<AuditConfig>): void {
  const file = homeConfigFile(home);
  const doc = parseDocument(existsSync(file) ? readText(file) : '');
  doc.set('audit', doc.createNode(AuditConfig.parse(audit)));
  writeFileAtomic(file, doc.toString());
}

/**
 * The sink of a setting: `local` is the directory sink on the audit state directory
 * (tamper-evident, not WORM: for development); `s3://bucket/prefix` is S3 Object Lock.
 */
export function sinkOf(settings: AuditConfig, dir: string): SegmentSink {
  if (settings.sink === 'local') return sinkFromUri(dir);
  return sinkFromUri(settings.sink, {
    retentionDays: settings.retentionDays,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  });
}

export const homeAuditDir = (home: string): string => join(home, 'audit');

export interface HomeAuditOptions extends Omit<AuditLogOptions, 'dir' | 'sink'> {
  home: string;
  /** Audit state directory (WAL, index, witness; the segments too with the local sink); default `<home>/audit`. */
  dir?: string | undefined;
  overrides?: AuditOverrides;
}

/**
 * Opens the home's audit log on the configured sink: the one way writers open the trail.
 * What the writer repaired at open is reported on stderr unless `onRecovery` is given.
 */
export function openHomeAuditLog(opts: HomeAuditOptions): Promise<AuditLog> {
  const { home, dir = homeAuditDir(home), overrides, ...rest } = opts;
  return openAuditLog({
    onRecovery: (m) => process.stderr.write(`charter: audit: recovered: ${m}\n`),
    ...rest,
    dir,
    sink: sinkOf(auditSettings(home, overrides), dir),
  });
}

/** The home's audit store for readers: state directory and configured sink. */
export function homeAuditStore(home: string, dir?: string, overrides?: AuditOverrides): { dir: string; sink: SegmentSink } {
  const at = dir ?? homeAuditDir(home);
  return { dir: at, sink: sinkOf(auditSettings(home, overrides), at) };
}
