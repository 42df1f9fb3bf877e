import type { Command } from 'commander';
import { registerChange } from './shared.js';

export function registerEngage(ks: Command): void {
  registerChange(ks, 'engage', 'engage the kill switch of a tenant or an agent');
}
