import { v7 as uuidv7 } from 'uuid';
import { evidenceRecord } from '../audit/index.js';
import { compiledManifestAgents, compiledManifestFile, compiledManifestsDir, FindingError, InputError } from '../common/index.js';
import type { Signer, TrustedKeysFile } from '../signing/index.js';
import type { EvidenceSink } from '../evals/index.js';
import {
  checkRelease,
  currentRelease,
  releaseContext,
  type CheckReport,
  type ReleaseContext,
  type ReleaseOptions,
} from './check-release.js';
import { Environment, parseEnvironment, PROMOTION_ORDER } from './gate-definition.js';
import { signReleaseRecord, type ReleaseRecord, type SignedReleaseRecord } from './release-record.js';

export interface WriteOptions {
  /** Signs the release record; its key must be trusted for `release-record`. */
  signer: Signer;
  /** Where the release record goes as evidence: the audit log (`AuditLog.append`). */
  audit: EvidenceSink;
}

export interface ReleaseOutcome {
  signed: SignedReleaseRecord;
  recordFile: string;
  manifestFile: string;
  auditSeq: number;
}

function signerName(trusted: TrustedKeysFile, signer: Signer): string {
  const key = trusted.keys.find((k) => k.keyId === signer.keyId);
  if (!key?.purposes.includes('release-record')) {
    throw new InputError(`signing key ${signer.keyId.slice(0, 16)}… is not trusted for release-record: nobody could verify the record`, {
      field: '--key',
    });
  }
  return key.name;
}

/** Signs the record, appends it to the audit plane (durable), then writes it to the release store. */
async function writeRecord(
  ctx: ReleaseContext,
  record: ReleaseRecord,
  manifest: Parameters<ReleaseContext['store']['write']>[1],
  opts: WriteOptions,
): Promise<ReleaseOutcome> {
  const signed = await signReleaseRecord(record, opts.signer);
  const { seq } = await opts.audit.append(
    evidenceRecord({
      evidenceType: 'release-record',
      digest: signed.digest,
      subject: record.manifestDigest,
      summary: `${record.action} ${record.agent} to ${record.environment}: ${record.manifestDigest}${record.replaces ? ` (replaces ${record.replaces})` : ''}`,
      document: signed.envelope,
      runId: record.id,
    }),
  );
  return { signed, ...ctx.store.write(signed, manifest), auditSeq: seq };
}

/**
 * The candidates `--agent NAME` or `--all` select: in the first environment the compiled
 * manifests in `<home>/manifests` (where `charter packs compile` files them), further up the
 * current releases of the environment below.
 */
export function candidateFiles(
  env: string,
  select: { agent: string } | { all: true },
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'> = {},
): Array<{ agent: string; file: string }> {
  const environment = parseEnvironment(env);
  const lower = PROMOTION_ORDER[environment];
  const ctx = releaseContext(opts);
  const candidate = (agent: string) => ({
    agent,
    file: lower ? candidateFromLowerEnvironment(environment, agent, opts) : compiledManifestFile(ctx.home, agent),
  });
  if ('agent' in select) return [candidate(select.agent)];
  if (lower) {
    const agents = ctx.store.agents(lower);
    if (agents.length === 0) throw new FindingError(`nothing is released to ${lower}: no candidates for ${environment}`);
    return agents.map(candidate);
  }
  const agents = compiledManifestAgents(ctx.home);
  if (agents.length === 0)
    throw new InputError(`no compiled manifests in ${compiledManifestsDir(ctx.home)}: run charter packs compile --all`, {
      file: compiledManifestsDir(ctx.home),
    });
  return agents.map(candidate);
}

/** The manifest file of an agent's current release in the environment below `env` (what `promote --agent` promotes). */
export function candidateFromLowerEnvironment(
  env: string,
  agent: string,
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'> = {},
): string {
  const environment = parseEnvironment(env);
  const lower = PROMOTION_ORDER[environment];
  if (!lower) throw new InputError(`${environment} is the first environment: name the candidate manifest`, { field: '--manifest' });
  const current = currentRelease(releaseContext(opts), lower, agent);
  if (!current) throw new FindingError(`${agent} has no release in ${lower} to promote to ${environment}`);
  return current.manifest.file;
}

/**
 * Promotes a candidate manifest to an environment: every gate is run again, and only when no
 * required gate blocks is a signed release record written (audit plane first, then the store),
 * linking manifest digest -> eval report digests -> approvals -> replay and canary results.
 */
export async function promote(
  env: string,
  candidateFile: string,
  opts: ReleaseOptions & WriteOptions,
): Promise<ReleaseOutcome & { report: CheckReport }> {
  const report = await checkRelease(env, candidateFile, opts);
  const blocking = report.gates.filter((g) => g.blocking);
  if (blocking.length > 0) {
    throw new FindingError(
      `release of ${report.agent} to ${report.environment} refused: ${blocking.map((g) => `${g.gate} ${g.status}${g.reasons[0] ? ` (${g.reasons[0]})` : ''}`).join('; ')}`,
      undefined,
      blocking.flatMap((g) => g.reasons.map((r) => `${g.gate}: ${r}`)),
    );
  }
  const ctx = releaseContext(opts);
  const order = report.gates.find((g) => g.gate === 'promotion-order')!.evidence as { environment?: Environment; recordDigest?: string };
  const record: ReleaseRecord = {
    apiVersion: 'charter.dev/v1',
    kind: 'ReleaseRecord',
    id: uuidv7(),
    action: 'promote',
    environment: report.environment,
    agent: report.agent,
    manifestDigest: report.candidate.digest,
    replaces: report.current?.record.record.manifestDigest ?? null,
    previousRecordDigest: report.current?.record.digest ?? null,
    promotedFrom: order.environment && order.recordDigest ? { environment: order.environment, recordDigest: order.recordDigest } : null,
    gateDefinitionDigest: report.gateDefinitionDigest,
    evalReports: report.evalReports,
    approvals: report.approvals.map((a) => ({ approver: a.approver, keyId: a.keyId, digest: a.digest })),
    replay: report.replay ? { ...report.replay, canary: undefined } : null,
    canary: report.gates.find((g) => g.gate === 'canary')!.evidence,
    gates: report.gates.map(({ gate, enforcement, status, summary, reasons, waiver }) => ({
      gate,
      enforcement,
      status,
      summary,
      reasons,
      waiver,
    })),
    reason: null,
    releasedAt: new Date().toISOString(),
    releasedBy: signerName(ctx.trusted, opts.signer),
  };
  return { ...(await writeRecord(ctx, record, report.candidate, opts)), report };
}

/**
 * Rolls an agent in an environment back to the release before the current one. The history is
 * a stack: a promotion pushes its manifest, a rollback pops one, so repeated rollbacks walk back.
 */
export async function rollback(
  env: string,
  agent: string,
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'> & WriteOptions & { reason: string },
): Promise<ReleaseOutcome> {
  const environment = parseEnvironment(env);
  const ctx = releaseContext(opts);
  const history = ctx.store.history(environment, agent, ctx.trusted);
  const serving: string[] = [];
  for (const h of history) {
    if (h.record.action === 'promote') serving.push(h.record.manifestDigest);
    else serving.pop();
  }
  const current = history.at(-1);
  const target = serving.at(-2);
  if (!current || !target) throw new FindingError(`${agent} in ${environment} has no earlier release to roll back to`);
  const manifest = ctx.store.loadManifest(environment, agent, target, ctx.trusted);
  const record: ReleaseRecord = {
    apiVersion: 'charter.dev/v1',
    kind: 'ReleaseRecord',
    id: uuidv7(),
    action: 'rollback',
    environment,
    agent,
    manifestDigest: target,
    replaces: current.record.manifestDigest,
    previousRecordDigest: current.digest,
    promotedFrom: null,
    gateDefinitionDigest: current.record.gateDefinitionDigest,
    evalReports: [],
    approvals: [],
    replay: null,
    canary: null,
    gates: [],
    reason: opts.reason,
    releasedAt: new Date().toISOString(),
    releasedBy: signerName(ctx.trusted, opts.signer),
  };
  return writeRecord(ctx, record, manifest, opts);
}
