import type { Command } from 'commander';
import { registerManifestVerify } from './verify.js';

export function registerManifest(program: Command): void {
  const manifest = program.command('manifest');
  registerManifestVerify(manifest);
}
