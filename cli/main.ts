#!/usr/bin/env node
import { Command } from 'commander';
import { startCli } from './start.js';
import { configureExits, reportError } from './program.js';
import { GROUPS, isGroup, registerGroupStubs, type GroupName } from './groups.js';

// Before anything that may connect is imported: the home, --verbose and the egress guard.
const argv = process.argv.slice(2);
let start: Awaited<ReturnType<typeof startCli>>;
try {
  start = await startCli(argv);
} catch (err) {
  process.exit(reportError(err, argv.includes('--json')));
}

const program = new Command('charter')
  .description('Charter: layered Cedar policy packs, signed agent manifests, eval-gated releases and a verifiable decision trail')
  .version(process.env.npm_package_version ?? '0.1.0')
  .option('--home <dir>', 'Charter home: keys, tenants, manifests, audit, reports (default $CHARTER_HOME, else ./.charter)')
  .option('--verbose', 'say on stderr what the command does: home, files written, connections made')
  .addHelpText(
    'after',
    `
Examples:
  $ charter init                                   # create a home in ./.charter
  $ charter packs test                             # run the shipped pack tests
  $ charter packs compile --all                    # sign every agent manifest into the home
  $ charter release check --all --env dev          # the gate matrix of every agent
  $ charter keys generate --name x --bogus --json  # every error is one JSON document with a code
  $ charter completion bash > ~/.charter-completion.bash

Exit codes: 0 ok, 1 findings, 2 usage or input error. Error codes: see the README.`,
  );
configureExits(program, start.json);

/**
 * The first operand names the group (skipping the value of --home). Only that group is imported:
 * loading all of them (Cedar, promptfoo, the AWS SDKs) costs seconds. Without one (top-level
 * help, an unknown command) the groups are listed from their descriptions alone.
 */
function invokedGroup(args: string[]): GroupName | undefined {
  const operands = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--home');
  const first = operands[0] === 'help' ? operands[1] : operands[0];
  return first !== undefined && isGroup(first) ? first : undefined;
}

const invoked = invokedGroup(argv);
if (invoked) await GROUPS[invoked].load(program);
else registerGroupStubs(program);

await program.parseAsync(process.argv);
