import type { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerToken } from './token.js';

/** `charter console <verb>`: one file per verb in this folder; `serve` is the default verb. */
export function registerConsole(program: Command): void {
  const group = program.command('console').description('the web console for auditors, approvers, security and ML engineers');
  for (const register of [registerServe, registerToken]) register(group);
}
