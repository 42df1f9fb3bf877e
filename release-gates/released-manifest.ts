import { join } from 'node:path';
import { FindingError } from '../common/index.js';
import { loadVerifiedManifest, type VerifiedManifest } from '../policy-packs/index.js';
import { currentRelease, releaseContext, type ReleaseOptions } from './check-release.js';
import { parseEnvironment } from './gate-definition.js';
import type { SignedReleaseRecord } from './release-record.js';

export type ReleasedManifest = VerifiedManifest & { file: string; record: SignedReleaseRecord };

/**
 * Deploy, local runtime: the manifest an agent may run with in an environment. Only a manifest
 * that the current, signed and chain-verified release record names is returned; anything else
 * throws (FindingError), so a runtime that loads through here refuses to start unreleased policy.
 */
export function loadReleasedManifest(
  env: string,
  agent: string,
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'> = {},
): ReleasedManifest {
  const environment = parseEnvironment(env);
  const current = currentRelease(releaseContext(opts), environment, agent);
  if (!current) throw new FindingError(`${agent} has no release in ${environment}: refusing to load an unreleased manifest`);
  return { ...current.manifest, record: current.record };
}

/** Checks that a given manifest file is the current release of its agent in the environment. */
export function verifyReleasedManifestFile(
  env: string,
  file: string,
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'> = {},
): ReleasedManifest {
  const ctx = releaseContext(opts);
  const candidate = loadVerifiedManifest(file, opts.trustedKeysFile ?? join(ctx.home, 'keys', 'trusted-keys.json'));
  const released = loadReleasedManifest(env, candidate.manifest.agent.name, opts);
  if (released.digest !== candidate.digest) {
    throw new FindingError(
      `manifest ${candidate.digest} is not the current ${env} release of ${candidate.manifest.agent.name} (that is ${released.digest})`,
      { file },
    );
  }
  return { ...released, file };
}
