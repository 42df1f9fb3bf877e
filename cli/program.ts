import { Command, CommanderError } from 'commander';
import { CharterError, ExitCode, errorMessage } from '../common/index.js';
import { printJson } from './output.js';

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
    try {
      const code = await fn(...args);
      process.exitCode = code ?? ExitCode.ok;
    } catch (err) {
      process.exitCode = reportError(err, json);
    }
  };
}

export function reportError(err: unknown, json: boolean): number {
  const exitCode = err instanceof CharterError ? err.exitCode : ExitCode.usage;
  const details = err instanceof CharterError ? err.details : [];
  if (json) {
    printJson({
      ok: false,
      error: { message: errorMessage(err), details, ...(err instanceof CharterError && err.location ? { location: err.location } : {}) },
    });
  } else {
    process.stderr.write(`charter: ${errorMessage(err)}\n`);
    for (const d of details) process.stderr.write(`  - ${d}\n`);
    if (!(err instanceof CharterError) && err instanceof Error && process.env.CHARTER_DEBUG) process.stderr.write(`${err.stack}\n`);
  }
  return exitCode;
}

/** Commander's own parse errors (unknown option, missing argument) are usage errors: exit 2. */
export function configureExits(program: Command): void {
  program.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      process.exit(ExitCode.ok);
    }
    process.exit(ExitCode.usage);
  });
}

/** Adds the flag every command shares. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print machine-readable JSON on stdout');
}
