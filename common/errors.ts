/**
 * Errors that cross a module boundary carry the exit code the CLI must return and,
 * where the cause is an input, where in that input the problem is.
 *
 * Exit codes (documented in the README, relied on by CI):
 *   0  ok
 *   1  findings: failed tests, invalid signatures, policy errors, gates that do not pass
 *   2  usage errors or unreadable / malformed input
 */
export const ExitCode = { ok: 0, findings: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `agent.tools[2].tier`. */
  field?: string;
}

export function formatLocation(loc: SourceLocation): string {
  let out = loc.file ?? '';
  if (loc.line !== undefined) out += `:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`;
  if (loc.field) out += `${out ? ' ' : ''}(${loc.field})`;
  return out;
}

export class CharterError extends Error {
  readonly exitCode: ExitCode;
  readonly location: SourceLocation | undefined;
  readonly details: string[];

  constructor(message: string, opts: { exitCode?: ExitCode; location?: SourceLocation; details?: string[]; cause?: unknown } = {}) {
    const where = opts.location ? formatLocation(opts.location) : '';
    super(where ? `${where}: ${message}` : message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'CharterError';
    this.exitCode = opts.exitCode ?? ExitCode.findings;
    this.location = opts.location;
    this.details = opts.details ?? [];
  }
}

/** Bad or unreadable input: exit 2. */
export class InputError extends CharterError {
  constructor(message: string, location?: SourceLocation, details?: string[]) {
    super(message, { exitCode: ExitCode.usage, ...(location ? { location } : {}), ...(details ? { details } : {}) });
    this.name = 'InputError';
  }
}

/** A check that ran and found a problem (policy error, bad signature, failed test): exit 1. */
export class FindingError extends CharterError {
  constructor(message: string, location?: SourceLocation, details?: string[]) {
    super(message, { exitCode: ExitCode.findings, ...(location ? { location } : {}), ...(details ? { details } : {}) });
    this.name = 'FindingError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The message with its causes, for errors whose own message says little (undici's "fetch
 * failed" keeps the socket error in `cause`): `fetch failed (other side closed)`.
 */
export function errorWithCauses(err: unknown): string {
  const causes: string[] = [];
  for (
    let c = err instanceof Error ? err.cause : undefined, depth = 0;
    c !== undefined && depth < 4;
    c = c instanceof Error ? c.cause : undefined, depth++
  ) {
    const code = typeof c === 'object' && c !== null && 'code' in c ? `${String((c as { code: unknown }).code)}: ` : '';
    causes.push(code + errorMessage(c));
  }
  return causes.length ? `${errorMessage(err)} (${causes.join('; ')})` : errorMessage(err);
}
