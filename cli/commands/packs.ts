import type { Command } from 'commander';
import { registerCompile } from './packs/compile.js';
import { registerDiff } from './packs/diff.js';
import { registerNew } from './packs/new.js';
import { registerTest } from './packs/test.js';
import { registerValidate } from './packs/validate.js';

/** `charter packs`: one file per verb under commands/packs/. */
export function registerPacks(program: Command): void {
  const packs = program
    .command('packs')
    .description('policy packs: scaffold, validate, test with coverage, compile signed agent manifests, diff');
  registerNew(packs);
  registerValidate(packs);
  registerTest(packs);
  registerCompile(packs);
  registerDiff(packs);
}
