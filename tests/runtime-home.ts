import { spawnSync } from 'node:child_process';
import { INVOCATION_ENVELOPE } from '../agents/index.js';
import { contentPath } from '../common/index.js';

const CLI = contentPath('dist', 'cli', 'main.js');

/**
 * A Charter home the runtime can start on, made through the built CLI: signing keys, the eight
 * compiled manifests, and each released to `env` (the runtime loads released manifests only).
 * The release uses gate definitions with every check off: runtime tests test no gate, and
 * promotion order and signed release records still hold. Throws with the CLI's error.
 */
export function prepareRuntimeHome(home: string, envs: Array<'dev' | 'stg' | 'prod'> = ['dev']): void {
  const steps = [
    ...[
      ['manifest-signer', 'manifest'],
      ['audit', 'audit-checkpoint'],
      ['release-signer', 'release-record'],
      [INVOCATION_ENVELOPE.sender, 'agent-envelope'],
    ].map(([name, purpose]) => ['keys', 'generate', '--name', name!, '--purpose', purpose!]),
    ['packs', 'compile', '--all'],
    ...envs.map((env) => ['release', 'promote', '--env', env, '--all', '--gates', contentPath('release-gates', 'fixtures', 'gates-off')]),
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: home }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`charter ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
}
