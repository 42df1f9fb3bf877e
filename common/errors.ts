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

/**
 * Stable error codes: what `--json` prints as `error.code` and CI may branch on. The README's
 * error-code table lists them; a code once published keeps its meaning.
 */
export const ErrorCode = {
  /** Command line: unknown command or option, missing or excess argument, invalid value. */
  usageUnknownCommand: 'CHARTER_USAGE_UNKNOWN_COMMAND',
  usageMissingCommand: 'CHARTER_USAGE_MISSING_COMMAND',
  usageUnknownOption: 'CHARTER_USAGE_UNKNOWN_OPTION',
  usageMissingOption: 'CHARTER_USAGE_MISSING_OPTION',
  usageMissingArgument: 'CHARTER_USAGE_MISSING_ARGUMENT',
  usageMissingValue: 'CHARTER_USAGE_MISSING_VALUE',
  usageExcessArguments: 'CHARTER_USAGE_EXCESS_ARGUMENTS',
  usageInvalidValue: 'CHARTER_USAGE_INVALID_VALUE',
  usageConflict: 'CHARTER_USAGE_CONFLICTING_OPTIONS',
  /** A file the command needs does not exist / cannot be read. */
  inputNotFound: 'CHARTER_INPUT_NOT_FOUND',
  inputUnreadable: 'CHARTER_INPUT_UNREADABLE',
  /** YAML or JSON that does not parse. */
  inputSyntax: 'CHARTER_INPUT_SYNTAX',
  /** Input that parses but is not valid: a schema violation, a bad flag value, an unknown name. */
  inputInvalid: 'CHARTER_INPUT_INVALID',
  /** The Charter home lacks what the command needs: run `charter init` (or the named command) first. */
  homeNotInitialised: 'CHARTER_HOME_NOT_INITIALISED',
  /** A check ran and found a problem: failed tests, invalid signature, policy error, gate not passed. */
  finding: 'CHARTER_FINDING',
  /** A connection to an endpoint outside the egress allow-list was refused. */
  egressRefused: 'CHARTER_EGRESS_REFUSED',
  /** Anything else: a bug or an environment failure; `--verbose` prints the stack. */
  internal: 'CHARTER_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class CharterError extends Error {
  readonly exitCode: ExitCode;
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  readonly details: string[];

  constructor(
    message: string,
    opts: { exitCode?: ExitCode; code?: ErrorCode; location?: SourceLocation; details?: string[]; cause?: unknown } = {},
  ) {
    const where = opts.location ? formatLocation(opts.location) : '';
    super(where ? `${where}: ${message}` : message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'CharterError';
    this.exitCode = opts.exitCode ?? ExitCode.findings;
    this.code = opts.code ?? (this.exitCode === ExitCode.usage ? ErrorCode.inputInvalid : ErrorCode.finding);
    this.location = opts.location;
    this.details = opts.details ?? [];
  }
}

/** Bad or unreadable input: exit 2. */
export class InputError extends CharterError {
  constructor(message: string, location?: SourceLocation, details?: string[], code: ErrorCode = ErrorCode.inputInvalid) {
    super(message, { exitCode: ExitCode.usage, code, ...(location ? { location } : {}), ...(details ? { details } : {}) });
    this.name = 'InputError';
  }
}

/** A check that ran and found a problem (policy error, bad signature, failed test): exit 1. */
export class FindingError extends CharterError {
  constructor(message: string, location?: SourceLocation, details?: string[]) {
    super(message, {
      exitCode: ExitCode.findings,
      code: ErrorCode.finding,
      ...(location ? { location } : {}),
      ...(details ? { details } : {}),
    });
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
