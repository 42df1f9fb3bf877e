import { InputError, readText } from '../common/index.js';
import { parseEnvelope, type Signer } from '../signing/index.js';
import { verifyManifestEnvelope, type Manifest } from '../policy-packs/index.js';
import { listSuites, loadSuite } from '../evals/index.js';
import { releaseContext, type ReleaseOptions } from './check-release.js';
import { parseEnvironment } from './gate-definition.js';
import { signReleaseApproval, type ReleaseApproval } from './release-approval.js';

/**
 * Signs a release approval for one manifest in one environment with the approver's own key
 * (trusted for `approval`) and files it in the release store, where `check` and `promote` find it.
 */
export async function approveRelease(
  env: string,
  manifestFile: string,
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'> & {
    signer: Signer;
    acceptReplayFlips?: string[];
    waivers?: ReleaseApproval['waivers'];
    note?: string;
  },
): Promise<{ file: string; digest: string; approver: string; agent: string; manifestDigest: string }> {
  const environment = parseEnvironment(env);
  const ctx = releaseContext(opts);
  const manifest = verifyManifestEnvelope(parseEnvelope(readText(manifestFile), manifestFile), ctx.trusted, { file: manifestFile });
  const key = ctx.trusted.keys.find((k) => k.keyId === opts.signer.keyId);
  if (!key?.purposes.includes('approval'))
    throw new InputError(`key ${opts.signer.keyId.slice(0, 16)}… is not a trusted approval key`, { field: '--key' });
  const agent = manifest.manifest.agent.name;
  refuseUnknownWaivers(opts.waivers ?? [], manifest.manifest);
  const written = await signReleaseApproval(
    {
      apiVersion: 'charter.dev/v1',
      kind: 'ReleaseApproval',
      environment,
      agent,
      manifestDigest: manifest.digest,
      acceptReplayFlips: opts.acceptReplayFlips ?? [],
      waivers: opts.waivers ?? [],
      note: opts.note ?? '',
      approvedAt: new Date().toISOString(),
    },
    opts.signer,
    ctx.store.approvalsDir(environment, agent),
  );
  return { ...written, approver: key.name, agent, manifestDigest: manifest.digest };
}

/** Gates whose items can be waived by name without an item list (see WAIVABLE in check-release). */
const WHOLE_GATE_WAIVERS = ['dependencies', 'replay', 'canary'];

/**
 * A waiver names something that can go unchecked for this manifest: a whole waivable gate, or
 * `evals:<suite>/<metric>` for a threshold of the manifest or of a shipped suite. A typo would
 * otherwise be signed into the store as an approval of nothing; it is refused, naming the known items.
 */
function refuseUnknownWaivers(waivers: ReleaseApproval['waivers'], manifest: Manifest): void {
  const evalItems = new Set(manifest.agent.evalThresholds.map((t) => `evals:${t.suite}/${t.metric}`));
  for (const name of listSuites()) for (const t of loadSuite(name).suite.thresholds) evalItems.add(`evals:${name}/${t.metric}`);
  const known = [...WHOLE_GATE_WAIVERS, ...[...evalItems].sort()];
  const unknown = waivers.filter((w) => !known.includes(w.check)).map((w) => w.check);
  if (unknown.length)
    throw new InputError(
      `unknown waiver ${unknown.map((u) => `'${u}'`).join(', ')} for ${manifest.agent.name}: known checks are ${known.join(', ')}`,
      { field: '--waive' },
    );
}
