import type { Command } from 'commander';
import { registerServe } from './serve.js';

/** `charter gateway <verb>`: one file per verb in this folder. */
export function registerGateway(program: Command): void {
  const gateway = program.command('gateway').description('the enforcement point for agent tool calls (MCP)');
  registerServe(gateway);
}
