import type { Command } from 'commander';
import { registerServe } from './serve.js';

/** `charter agents <verb>`: one file per verb in this folder. */
export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('the procurement agents as their own processes');
  registerServe(agents);
}
