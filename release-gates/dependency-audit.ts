import { execFile } from 'node:child_process';
import { z } from 'zod';
import { egressAllowedFor, packageRoot } from '../common/index.js';
import { fail, notRun, pass, type CheckOutcome } from './gate-result.js';

const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];

const AuditJson = z.object({
  auditReportVersion: z.number().optional(),
  vulnerabilities: z
    .record(z.string(), z.object({ name: z.string(), severity: z.enum(SEVERITIES), isDirect: z.boolean().optional() }))
    .default({}),
  metadata: z.object({ vulnerabilities: z.record(z.string(), z.number()), dependencies: z.record(z.string(), z.number()).optional() }),
});

export interface NpmAuditRun {
  stdout: string;
  stderr: string;
  error: string | null;
}

/** Answers are kept this long per folder: a check and the promote that follows ask the same question. */
const CACHE_MS = 10 * 60_000;
const cache = new Map<string, { at: number; run: Promise<NpmAuditRun> }>();

/**
 * Runs `npm audit --json` in the package root against `registry`. npm exits non-zero when it
 * finds something, so the exit code alone says nothing.
 */
function runNpmAudit(registry: string, cwd = packageRoot, timeoutMs = 120_000): Promise<NpmAuditRun> {
  const key = `${cwd} ${registry}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.run;
  const run = askNpm(registry, cwd, timeoutMs);
  cache.set(key, { at: Date.now(), run });
  return run;
}

function askNpm(registry: string, cwd: string, timeoutMs: number): Promise<NpmAuditRun> {
  return new Promise((resolve) => {
    const args = ['audit', '--json', '--omit=dev', '--registry', registry];
    execFile('npm', args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, error: err && !stdout.trim() ? err.message : null });
    });
  });
}

/**
 * The dependency gate. npm runs as a child process the egress guard does not reach, so the
 * registry is asked only when the egress allow-list names it; otherwise the gate is `not-run`
 * (never a pass) and the refusal is logged like any refused connection.
 */
export async function auditDependencies(registry: string, failOn: Exclude<Severity, 'info'>): Promise<CheckOutcome> {
  if (!egressAllowedFor(registry))
    return notRun(`npm audit not run: the registry ${registry} is not in the egress allow-list`, [
      `add ${registry} under egress.allow in the home's config.yaml to let the dependency gate ask it`,
    ]);
  return assessNpmAudit(await runNpmAudit(registry), failOn);
}

/**
 * Known-vulnerable dependencies from the registry's advisory database. When the registry
 * cannot be asked (offline, or an endpoint that refuses the bulk advisory call) the check is
 * `not-run`, never a pass.
 */
export function assessNpmAudit(run: NpmAuditRun, failOn: Exclude<Severity, 'info'>): CheckOutcome {
  if (run.error) return notRun('npm audit did not run', [run.error]);
  let value: unknown;
  try {
    value = JSON.parse(run.stdout);
  } catch {
    return notRun('npm audit gave no JSON report', [run.stderr.split('\n').find((l) => l.includes('error')) ?? 'unparseable output']);
  }
  const parsed = AuditJson.safeParse(value);
  if (!parsed.success) {
    const message = (value as { message?: unknown; error?: { summary?: unknown } } | null)?.message;
    return notRun('the advisory database could not be asked', [
      typeof message === 'string' ? message : 'npm audit returned no vulnerability report',
    ]);
  }
  const counts = parsed.data.metadata.vulnerabilities;
  const threshold = SEVERITIES.indexOf(failOn);
  const blocking = Object.values(parsed.data.vulnerabilities).filter((v) => SEVERITIES.indexOf(v.severity) >= threshold);
  const evidence = { tool: 'npm audit', counts, failOn, blocking: blocking.map((v) => ({ name: v.name, severity: v.severity })) };
  const summary =
    SEVERITIES.filter((s) => counts[s])
      .map((s) => `${counts[s]} ${s}`)
      .join(', ') || 'no known vulnerabilities';
  return blocking.length
    ? fail(
        `npm audit: ${summary}`,
        blocking.map((v) => `${v.name}: ${v.severity}`),
        evidence,
      )
    : pass(`npm audit: ${summary} (fails on ${failOn} and above)`, evidence);
}
