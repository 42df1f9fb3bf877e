import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { charterHome, FindingError, InputError, readText, writeFileAtomic } from '../common/index.js';
import { parseEnvelope, type TrustedKeysFile } from '../signing/index.js';
import { envelopeText, verifyManifestEnvelope, type VerifiedManifest } from '../policy-packs/index.js';
import type { Environment } from './gate-definition.js';
import { verifyReleaseRecord, type SignedReleaseRecord } from './release-record.js';

/**
 * `$CHARTER_HOME/releases/<env>/<agent>/`: `records/` holds the signed release records (the
 * agent's history in that environment, a hash chain), `manifests/` the signed manifests they
 * name, `approvals/` signed release approvals.
 */
export class ReleaseStore {
  readonly root: string;

  constructor(home = charterHome()) {
    this.root = join(home, 'releases');
  }

  agentDir(env: Environment, agent: string): string {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(agent)) throw new InputError(`invalid agent name '${agent}'`, { field: 'agent' });
    return join(this.root, env, agent);
  }

  manifestFile(env: Environment, agent: string, digest: string): string {
    return join(this.agentDir(env, agent), 'manifests', `${digest.slice('sha256:'.length)}.manifest.json`);
  }

  approvalsDir(env: Environment, agent: string): string {
    return join(this.agentDir(env, agent), 'approvals');
  }

  agents(env: Environment): string[] {
    const dir = join(this.root, env);
    return existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort()
      : [];
  }

  /**
   * Every record of an agent in an environment, verified, oldest first. The chain must be
   * whole: each record names the digest of the one before it; a missing, reordered or
   * substituted record is a finding.
   */
  history(env: Environment, agent: string, trusted: TrustedKeysFile): SignedReleaseRecord[] {
    const dir = join(this.agentDir(env, agent), 'records');
    if (!existsSync(dir)) return [];
    const records = readdirSync(dir)
      .filter((f) => f.endsWith('.dsse.json'))
      .map((f) => {
        const file = join(dir, f);
        const signed = verifyReleaseRecord(parseEnvelope(readText(file), file), trusted, file);
        if (signed.record.environment !== env || signed.record.agent !== agent) {
          throw new FindingError(`record is for ${signed.record.agent} in ${signed.record.environment}, found under ${env}/${agent}`, {
            file,
          });
        }
        return signed;
      });
    const byPrevious = new Map(records.map((r) => [r.record.previousRecordDigest ?? 'genesis', r]));
    if (byPrevious.size !== records.length)
      throw new FindingError(`release history of ${agent} in ${env} forks: two records name the same predecessor`, { file: dir });
    const ordered: SignedReleaseRecord[] = [];
    for (let next = byPrevious.get('genesis'); next; next = byPrevious.get(next.digest)) ordered.push(next);
    if (ordered.length !== records.length)
      throw new FindingError(
        `release history of ${agent} in ${env} is broken: ${records.length - ordered.length} record(s) are not on the chain`,
        { file: dir },
      );
    return ordered;
  }

  current(env: Environment, agent: string, trusted: TrustedKeysFile): SignedReleaseRecord | null {
    return this.history(env, agent, trusted).at(-1) ?? null;
  }

  /** A released manifest, verified, and checked to be the one the record names. */
  loadManifest(env: Environment, agent: string, digest: string, trusted: TrustedKeysFile): VerifiedManifest & { file: string } {
    const file = this.manifestFile(env, agent, digest);
    const verified = verifyManifestEnvelope(parseEnvelope(readText(file), file), trusted, { file });
    if (verified.digest !== digest)
      throw new FindingError(`released manifest has digest ${verified.digest}, the release record names ${digest}`, { file });
    return { ...verified, file };
  }

  /** Writes the manifest copy and then the record (each atomically); the record is what makes it current. */
  write(signed: SignedReleaseRecord, manifest: VerifiedManifest): { recordFile: string; manifestFile: string } {
    const { record } = signed;
    const manifestFile = this.manifestFile(record.environment, record.agent, record.manifestDigest);
    if (!existsSync(manifestFile)) writeFileAtomic(manifestFile, envelopeText(manifest.envelope));
    const stamp = record.releasedAt.replace(/[:.]/g, '-');
    const recordFile = join(
      this.agentDir(record.environment, record.agent),
      'records',
      `${stamp}-${record.action}-${signed.digest.slice(7, 19)}.dsse.json`,
    );
    writeFileAtomic(recordFile, envelopeText(signed.envelope));
    return { recordFile, manifestFile };
  }
}
