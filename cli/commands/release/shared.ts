import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError } from '../../../common/index.js';
import { LocalKeySigner, loadPrivateKey, loadSigner } from '../../../signing/index.js';
import { openHomeAuditLog, type AuditLog } from '../../../audit/index.js';
import { candidateFiles, type ReleaseOptions } from '../../../release-gates/index.js';
import { withJson } from '../../program.js';
import { searchGiven, searchPathOf, withPackSearch, type SearchOptions } from '../packs/shared.js';

export interface GateOpts extends SearchOptions {
  env: string;
  manifest?: string;
  agent?: string[];
  all?: boolean;
  liveEntities?: boolean;
  gates?: string;
  testReport?: string;
  scan?: string[];
  evalReport?: string[];
  auditDir?: string;
  entities?: string;
  approval?: string[];
  trustedKeys?: string;
  json?: boolean;
}

export interface WriteOpts {
  key?: string;
  auditKey?: string;
  auditOrigin: string;
}

export async function releaseOptions(o: GateOpts): Promise<ReleaseOptions> {
  if (o.liveEntities && o.entities) throw new InputError('give --entities FILE or --live-entities, not both', { field: '--live-entities' });
  return {
    ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}),
    ...(o.gates ? { gatesDir: o.gates } : {}),
    ...(o.testReport ? { testReport: o.testReport } : {}),
    ...(searchGiven(o) ? { packs: searchPathOf(o) } : {}),
    ...(o.scan ? { scanPaths: o.scan } : {}),
    ...(o.evalReport ? { evalReports: o.evalReport } : {}),
    ...(o.auditDir ? { auditDir: o.auditDir } : {}),
    ...(o.entities ? { entitiesFile: o.entities } : {}),
    // Loaded only when asked: it opens the procurement reference's negotiation store.
    ...(o.liveEntities ? { replayData: (await import('../negotiations/home.js')).homeDecisionData(charterHome()) } : {}),
    ...(o.approval ? { approvalFiles: o.approval } : {}),
  };
}

/** The candidate selection shared by check, promote and approve. */
export function selectOptions(cmd: Command, verb: string): Command {
  return cmd
    .option('--manifest <file>', 'candidate signed manifest')
    .option(
      '--agent <name...>',
      `${verb} these agents' candidates: their compiled manifests in dev, their releases in the environment below elsewhere`,
    )
    .option('--all', `${verb} every agent's candidate (every compiled manifest in dev, every release of the environment below elsewhere)`);
}

/** The selected candidates; the agent of a --manifest file is known once it is verified, so it is left empty. */
export function candidatesOf(
  o: { env: string; manifest?: string; agent?: string[]; all?: boolean },
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'>,
): Array<{ agent: string; file: string }> {
  if ([o.manifest, o.agent, o.all].filter(Boolean).length !== 1)
    throw new InputError('give exactly one of --manifest FILE, --agent NAME... or --all', { field: '--manifest' });
  if (o.manifest) return [{ agent: '', file: o.manifest }];
  if (o.agent) return o.agent.flatMap((agent) => candidateFiles(o.env, { agent }, opts));
  return candidateFiles(o.env, { all: true }, opts);
}

/** The evidence options of check and promote, which both run the gates. */
export function gateOptions(cmd: Command): Command {
  return withPackSearch(withJson(cmd))
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--gates <dir>', 'folder of <env>.yaml gate definitions (default: the shipped ones)')
    .option('--test-report <file>', 'test evidence: a vitest JSON report or `charter packs test --json` output')
    .option('--scan <path...>', 'more files or folders to scan for secrets (packs, datasets and gate config are scanned anyway)')
    .option('--eval-report <file...>', 'signed eval reports (reports under $CHARTER_HOME/reports are found too)')
    .option('--audit-dir <dir>', 'audit log folder with the decisions to replay (default $CHARTER_HOME/audit)')
    .option('--entities <file>', 'entities and tenant limits the replayed decisions are evaluated over (the gateway entities file)')
    .option(
      '--live-entities',
      "evaluate replayed decisions over this home's procurement state (negotiations and tenants.yaml) instead of --entities",
    )
    .option('--approval <file...>', 'signed release approvals (those filed by `charter release approve` are found too)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)');
}

/** The signing options of the verbs that write a release record (promote, rollback). */
export function writeOptions(cmd: Command): Command {
  return cmd
    .option('--key <file|kms:id>', 'release-record signing key (default $CHARTER_HOME/keys/release-signer.key.pem)')
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints (default $CHARTER_HOME/keys/audit.key.pem)')
    .option('--audit-origin <origin>', 'audit checkpoint origin', 'charter.local/audit');
}

/** Runs `fn` with the release signer and an open audit log, closing the log whatever happens. */
export async function withWriter<T>(
  o: WriteOpts,
  fn: (w: { signer: Awaited<ReturnType<typeof loadSigner>>; audit: AuditLog }) => Promise<T>,
  auditDir?: string,
): Promise<T> {
  const keys = join(charterHome(), 'keys');
  const signer = await loadSigner(o.key ?? join(keys, 'release-signer.key.pem'));
  const audit = await openHomeAuditLog({
    home: charterHome(),
    dir: auditDir,
    signer: new LocalKeySigner(loadPrivateKey(o.auditKey ?? join(keys, 'audit.key.pem'))),
    origin: o.auditOrigin,
  });
  try {
    return await fn({ signer, audit });
  } finally {
    await audit.close();
  }
}
