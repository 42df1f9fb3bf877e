import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, contentPath, InputError } from '../../../common/index.js';
import { Workspace, type PackSearchPath } from '../../../policy-packs/index.js';

export const shippedPacks = () => contentPath('policy-packs', 'packs');
export const defaultTrusted = () => join(charterHome(), 'keys', 'trusted-keys.json');

/** The pack search path as options give it: your folders (`--packs`, repeatable), then the shipped packs. */
export interface SearchOptions {
  packs: string[];
  /** false with --no-shipped. */
  shipped: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds `--packs DIR` (repeatable) and `--no-shipped` to a command that reads packs. */
export function withPackSearch(cmd: Command): Command {
  return cmd
    .option(
      '--packs <dir>',
      'a packs folder of your own, searched before the shipped packs it extends (repeatable; default: the shipped packs alone)',
      collect,
      [],
    )
    .option('--no-shipped', 'search only the --packs folders: a complete packs tree with its own base (a fork, a test fixture)');
}

/** The search path the options give: the --packs folders then the shipped packs, or the shipped packs alone. */
export function searchPathOf(opts: SearchOptions): PackSearchPath {
  if (opts.packs.length === 0 && !opts.shipped)
    throw new InputError('--no-shipped needs at least one --packs DIR', { field: '--no-shipped' });
  return { own: opts.packs, ...(opts.shipped ? { shipped: shippedPacks() } : {}) };
}

/** Whether the options name any packs at all (a verb that only optionally reads packs skips them otherwise). */
export const searchGiven = (opts: SearchOptions) => opts.packs.length > 0 || !opts.shipped;

/** The workspace of a command: the --packs folders then the shipped packs, or the shipped packs alone. */
export function workspaceOf(opts: SearchOptions): Workspace {
  return Workspace.search(searchPathOf(opts));
}

/** Help text ending every verb: commands a reader can copy. */
export function withExamples(cmd: Command, examples: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}
