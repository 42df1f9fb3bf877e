import type { Command } from 'commander';
import { registerKeysGenerate } from './generate.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys');
  registerKeysGenerate(keys);
}
