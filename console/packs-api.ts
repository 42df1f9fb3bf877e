import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledManifestsDir, contentPath, errorMessage } from '../common/index.js';
import { diffManifests, loadVerifiedManifest, Workspace, type VerifiedManifest } from '../policy-packs/index.js';
import { NotFound } from './guard.js';

/** Where a manifest of the home was found: compiled (`manifests/`) or released to an environment. */
interface ManifestFile {
  file: string;
  where: string;
}

function manifestFiles(home: string): ManifestFile[] {
  const found: ManifestFile[] = [];
  const compiled = compiledManifestsDir(home);
  if (existsSync(compiled))
    for (const f of readdirSync(compiled).sort())
      if (f.endsWith('.manifest.json')) found.push({ file: join(compiled, f), where: 'compiled' });
  const releases = join(home, 'releases');
  for (const env of existsSync(releases) ? readdirSync(releases).sort() : [])
    for (const agent of readdirSync(join(releases, env)).sort()) {
      const dir = join(releases, env, agent, 'manifests');
      for (const f of existsSync(dir) ? readdirSync(dir).sort() : []) found.push({ file: join(dir, f), where: `released to ${env}` });
    }
  return found;
}

/** Every manifest of the home by digest, verified against the home's trusted keys (one that does not verify is listed with why). */
function verifiedManifests(home: string): {
  manifests: Map<string, VerifiedManifest & { where: string[] }>;
  unverified: Array<{ file: string; error: string }>;
} {
  const trustedFile = join(home, 'keys', 'trusted-keys.json');
  const manifests = new Map<string, VerifiedManifest & { where: string[] }>();
  const unverified: Array<{ file: string; error: string }> = [];
  for (const { file, where } of manifestFiles(home)) {
    try {
      const v = loadVerifiedManifest(file, trustedFile);
      const known = manifests.get(v.digest);
      if (known) known.where.push(where);
      else manifests.set(v.digest, { ...v, where: [where] });
    } catch (err) {
      unverified.push({ file, error: errorMessage(err) });
    }
  }
  return { manifests, unverified };
}

/** Per-pack coverage from the pack-test evidence the release gates keep (`<home>/evidence/pack-tests.json`), when there is one. */
function coverage(home: string): Map<string, { covered: number; total: number; percent: number }> {
  const file = join(home, 'evidence', 'pack-tests.json');
  const out = new Map<string, { covered: number; total: number; percent: number }>();
  if (!existsSync(file)) return out;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    packs?: Array<{ pack: string; covered: number; total: number; percent: number }>;
  };
  for (const p of doc.packs ?? []) out.set(p.pack, { covered: p.covered, total: p.total, percent: p.percent });
  return out;
}

const summary = (v: VerifiedManifest & { where: string[] }, cov: ReturnType<typeof coverage>) => ({
  digest: v.digest,
  agent: v.manifest.agent.name,
  where: v.where,
  tools: v.manifest.tools.map((t) => ({ name: t.name, tier: t.tier })),
  packs: v.manifest.layers.map((l) => ({
    name: l.name,
    layer: l.layer,
    version: l.version,
    coverage: cov.get(`${l.name}@${l.version}`) ?? null,
  })),
  policies: Object.keys(v.manifest.policies).length,
  previousManifestDigest: v.manifest.previousManifestDigest,
});

/** The home's manifests (compiled and released), with their packs and versions and each pack's test coverage. */
export function manifestList(home: string) {
  const { manifests, unverified } = verifiedManifests(home);
  const cov = coverage(home);
  return { manifests: [...manifests.values()].map((v) => summary(v, cov)).sort((a, b) => a.agent.localeCompare(b.agent)), unverified };
}

/** One manifest by digest (what the trail's record page links to): its packs, tools and policies. */
export function manifestDetail(home: string, digest: string) {
  const v = verifiedManifests(home).manifests.get(digest);
  if (!v) throw new NotFound(`manifest ${digest}`);
  return { ...summary(v, coverage(home)), policyIds: Object.keys(v.manifest.policies).sort() };
}

/**
 * What would change between two manifests of the home: `charter packs diff` (diffManifests over
 * the corpus of the shipped packs' tests), decision flips deny -> allow first.
 */
export function manifestDiff(home: string, oldDigest: string, newDigest: string) {
  const { manifests } = verifiedManifests(home);
  const [a, b] = [manifests.get(oldDigest), manifests.get(newDigest)];
  if (!a) throw new NotFound(`manifest ${oldDigest}`);
  if (!b) throw new NotFound(`manifest ${newDigest}`);
  const diff = diffManifests(a, b, [new Workspace(contentPath('policy-packs', 'packs'))]);
  const rank = (d: (typeof diff.decisions)[number]) =>
    !d.decisionChanged ? 3 : d.old.decision === 'deny' && d.new.decision === 'allow' ? 0 : 1;
  return { ...diff, decisions: [...diff.decisions].sort((x, y) => rank(x) - rank(y)) };
}
