import { Command, CommanderError } from 'commander';
import { CharterError, ErrorCode, ExitCode, errorMessage, startMetrics, startTracing } from '../common/index.js';
import { printJson, verbose } from './output.js';

export interface GlobalOptions {
  json?: boolean;
}

/**
 * Wraps a command action: a thrown CharterError sets the exit code it carries (1 findings,
 * 2 input); anything else is an internal error and exits 2. With --json the error is
 * printed as JSON on stdout so CI can parse every outcome the same way.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const json = Boolean(cmd.optsWithGlobals().json);
    verbose(`${commandPath(cmd)} (home ${process.env.CHARTER_HOME ?? '.charter'})`);
    // Traces and metrics are exported when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT); otherwise nothing is loaded.
    const serviceName = `charter ${commandPath(cmd).split(' ').slice(1).join(' ')}`;
    const [tracing, metrics] = await Promise.all([startTracing({ serviceName }), startMetrics({ serviceName })]);
    try {
      const code = await fn(...args);
      process.exitCode = code ?? ExitCode.ok;
    } catch (err) {
      process.exitCode = reportError(err, json);
    } finally {
      await Promise.all([tracing.shutdown(), metrics.shutdown()]);
    }
  };
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Prints an error the one way the CLI prints errors: with --json one document on stdout
 * (`{ ok: false, error: { code, message, details, location? } }`), else `charter: message` on
 * stderr. Returns the exit code.
 */
export function reportError(err: unknown, json: boolean): number {
  const exitCode = err instanceof CharterError ? err.exitCode : ExitCode.usage;
  const code = err instanceof CharterError ? err.code : ErrorCode.internal;
  const details = err instanceof CharterError ? err.details : [];
  if (json) {
    printJson({
      ok: false,
      error: {
        code,
        message: errorMessage(err),
        details,
        ...(err instanceof CharterError && err.location ? { location: err.location } : {}),
      },
    });
  } else {
    process.stderr.write(`charter: ${errorMessage(err)}\n`);
    for (const d of details) process.stderr.write(`  - ${d}\n`);
    if (!(err instanceof CharterError) && err instanceof Error && (process.env.CHARTER_DEBUG || process.env.CHARTER_VERBOSE))
      process.stderr.write(`${err.stack}\n`);
  }
  return exitCode;
}

const PARSE_ERRORS: Record<string, ErrorCode> = {
  'commander.unknownCommand': ErrorCode.usageUnknownCommand,
  'commander.unknownOption': ErrorCode.usageUnknownOption,
  'commander.missingMandatoryOptionValue': ErrorCode.usageMissingOption,
  'commander.missingArgument': ErrorCode.usageMissingArgument,
  'commander.optionMissingArgument': ErrorCode.usageMissingValue,
  'commander.excessArguments': ErrorCode.usageExcessArguments,
  'commander.invalidArgument': ErrorCode.usageInvalidValue,
  'commander.conflictingOption': ErrorCode.usageConflict,
};

/**
 * Commander's own parse errors (unknown option, missing argument, a group without its command)
 * are usage errors: exit 2, and with --json (anywhere on the command line) one JSON document
 * with a stable code instead of commander's text. Set on the program before any command is
 * added, so every subcommand inherits it.
 */
export function configureExits(program: Command, json: boolean): void {
  if (json) program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  program.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0))
      process.exit(ExitCode.ok);
    const code = PARSE_ERRORS[err.code] ?? (err.code === 'commander.help' ? ErrorCode.usageMissingCommand : ErrorCode.usageInvalidValue);
    const message = err.code === 'commander.help' ? 'a command is missing (see --help)' : err.message.replace(/^error: /, '');
    if (json) printJson({ ok: false, error: { code, message, details: [] } });
    process.exit(ExitCode.usage);
  });
}

/** Adds the flag every command shares. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print machine-readable JSON on stdout');
}
