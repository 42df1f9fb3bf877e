import type { Command } from 'commander';
import { registerChange } from './shared.js';

export function registerRelease(ks: Command): void {
  registerChange(ks, 'release', 'release an engaged kill switch');
}
