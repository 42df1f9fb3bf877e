import type { Command } from 'commander';
import { registerCompile } from './compile.js';
import { registerDiff } from './diff.js';
import { registerNew } from './new.js';
import { registerTest } from './test.js';
import { registerValidate } from './validate.js';

/** `charter packs <verb>`: one file per verb in this folder. */
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
