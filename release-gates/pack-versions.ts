import semver from 'semver';
import type { Manifest } from '../policy-packs/index.js';
import { fail, pass, type CheckOutcome } from './gate-result.js';

/**
 * Packs are versioned independently, and a version names one content: against the current
 * release in the environment, a pack whose files changed must carry a higher version, and no
 * pack may go back to a lower one (going back is `charter release rollback`, which re-releases
 * a recorded manifest). Without it two different policy sets would answer to one version in
 * the audit trail and in the release history.
 */
export function checkPackVersions(candidate: Manifest, current: Manifest | null): CheckOutcome {
  if (!current) return pass('first release in this environment: nothing to compare', { compared: [] });
  const before = new Map(current.layers.map((l) => [l.name, l]));
  const problems: string[] = [];
  const compared = candidate.layers.map((l) => {
    const was = before.get(l.name);
    if (!was) return { pack: l.name, version: l.version, was: null };
    const changed = was.digest !== l.digest;
    if (changed && l.version === was.version) {
      problems.push(
        `pack ${l.name} ${l.version} changed without a version bump (layer digest ${was.digest.slice(0, 19)}… -> ${l.digest.slice(0, 19)}…): raise 'version' in its pack.yaml`,
      );
    } else if (semver.valid(l.version) && semver.valid(was.version) && semver.lt(l.version, was.version)) {
      problems.push(
        `pack ${l.name} goes back from ${was.version} to ${l.version}: a release moves versions forward (to go back, charter release rollback)`,
      );
    }
    return { pack: l.name, version: l.version, was: was.version, changed };
  });
  const evidence = { compared };
  if (problems.length) return fail(`${problems.length} pack version problem(s)`, problems, evidence);
  const bumped = compared.filter((c) => c.was !== null && c.version !== c.was);
  return pass(
    bumped.length
      ? `versions move forward: ${bumped.map((c) => `${c.pack} ${c.was} -> ${c.version}`).join(', ')}`
      : 'same pack versions, same content',
    evidence,
  );
}
