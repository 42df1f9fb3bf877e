import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, errorMessage, InputError, writeFileAtomic } from '../../common/index.js';
import { LocalKeySigner, loadPrivateKey, loadSigner } from '../../signing/index.js';
import { openHomeAuditLog, type AuditLog } from '../../audit/index.js';
import {
  approveRelease,
  candidateFiles,
  checkRelease,
  currentRelease,
  deployRelease,
  parseEnvironment,
  promote,
  releaseContext,
  releaseTerraform,
  rollback,
  type AgentCoreSettings,
  type CheckReport,
  type GateResult,
  type ReleaseOptions,
  type ReleaseOutcome,
} from '../../release-gates/index.js';
import { writeCiReports } from '../ci-report.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';
import { RELEASE_CHECK_TOOL, releaseCiCases } from './release-ci.js';

interface GateOpts {
  env: string;
  manifest?: string;
  agent?: string[];
  all?: boolean;
  liveEntities?: boolean;
  gates?: string;
  testReport?: string;
  packs?: string;
  scan?: string[];
  evalReport?: string[];
  auditDir?: string;
  entities?: string;
  approval?: string[];
  trustedKeys?: string;
  json?: boolean;
}

interface WriteOpts {
  key?: string;
  auditKey?: string;
  auditOrigin: string;
}

async function releaseOptions(o: GateOpts): Promise<ReleaseOptions> {
  if (o.liveEntities && o.entities) throw new InputError('give --entities FILE or --live-entities, not both', { field: '--live-entities' });
  return {
    ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}),
    ...(o.gates ? { gatesDir: o.gates } : {}),
    ...(o.testReport ? { testReport: o.testReport } : {}),
    ...(o.packs ? { packsDir: o.packs } : {}),
    ...(o.scan ? { scanPaths: o.scan } : {}),
    ...(o.evalReport ? { evalReports: o.evalReport } : {}),
    ...(o.auditDir ? { auditDir: o.auditDir } : {}),
    ...(o.entities ? { entitiesFile: o.entities } : {}),
    // Loaded only when asked: it opens the procurement reference's negotiation store.
    ...(o.liveEntities ? { replayData: (await import('./negotiations.js')).homeDecisionData(charterHome()) } : {}),
    ...(o.approval ? { approvalFiles: o.approval } : {}),
  };
}

/** The candidate selection shared by check, promote and approve. */
function selectOptions(cmd: Command, verb: string): Command {
  return cmd
    .option('--manifest <file>', 'candidate signed manifest')
    .option(
      '--agent <name...>',
      `${verb} these agents' candidates: their compiled manifests in dev, their releases in the environment below elsewhere`,
    )
    .option('--all', `${verb} every agent's candidate (every compiled manifest in dev, every release of the environment below elsewhere)`);
}

/** The selected candidates; the agent of a --manifest file is known once it is verified, so it is left empty. */
function candidatesOf(
  o: { env: string; manifest?: string; agent?: string[]; all?: boolean },
  opts: Pick<ReleaseOptions, 'home' | 'trustedKeysFile'>,
): Array<{ agent: string; file: string }> {
  if ([o.manifest, o.agent, o.all].filter(Boolean).length !== 1)
    throw new InputError('give exactly one of --manifest FILE, --agent NAME... or --all', { field: '--manifest' });
  if (o.manifest) return [{ agent: '', file: o.manifest }];
  if (o.agent) return o.agent.flatMap((agent) => candidateFiles(o.env, { agent }, opts));
  return candidateFiles(o.env, { all: true }, opts);
}

function gateOptions(cmd: Command): Command {
  return withJson(cmd)
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--gates <dir>', 'folder of <env>.yaml gate definitions (default: the shipped ones)')
    .option('--test-report <file>', 'test evidence: a vitest JSON report or `charter packs test --json` output')
    .option('--packs <dir>', 'packs folder the candidate was compiled from: checked against the manifest, tested and scanned')
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

function writeOptions(cmd: Command): Command {
  return cmd
    .option('--key <file|kms:id>', 'release-record signing key (default $CHARTER_HOME/keys/release-signer.key.pem)')
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints (default $CHARTER_HOME/keys/audit.key.pem)')
    .option('--audit-origin <origin>', 'audit checkpoint origin', 'charter.local/audit');
}

/** A gate's status as a release manager reads it: blocking in capitals, waivers and advisories said. */
function statusCell(g: GateResult, long = false): string {
  if (g.enforcement === 'off') return 'off';
  if (g.waiver) return long ? `${g.status} (waived by ${g.waiver.approvers.join(', ')})` : 'waived';
  if (g.blocking) return long ? `${g.status.toUpperCase()} (blocks)` : g.status.toUpperCase();
  return g.enforcement === 'advisory' && g.status !== 'pass' ? `${g.status} (advisory)` : g.status;
}

function evidenceCell(g: GateResult): string {
  return [
    g.summary,
    ...g.reasons.map((r) => `- ${r}`),
    ...(g.waiver?.items.flatMap((i) => i.reasons.map((r) => `- waived ${i.check}: ${r}`)) ?? []),
  ].join('\n');
}

function printReport(report: CheckReport): void {
  printLine(`${report.agent} -> ${report.environment}: manifest ${report.candidate.digest}`);
  printLine(`  current release: ${report.current ? report.current.record.record.manifestDigest : 'none'}`);
  printTable(
    ['gate', 'enforcement', 'status', 'evidence'],
    report.gates.map((g) => [g.gate, g.enforcement, statusCell(g, true), evidenceCell(g)]),
  );
  printLine(
    report.ok
      ? 'all required gates pass'
      : `blocked by: ${report.gates
          .filter((g) => g.blocking)
          .map((g) => g.gate)
          .join(', ')}`,
  );
}

/** Several candidates: one row per agent, one column per gate, then what blocks and why. */
function printMatrix(reports: CheckReport[]): void {
  const gates = reports[0]!.gates.map((g) => g.gate);
  printTable(
    ['agent', ...gates],
    reports.map((r) => [r.agent, ...r.gates.map((g) => statusCell(g))]),
  );
  for (const r of reports)
    for (const g of r.gates.filter((x) => x.blocking)) printLine(`${r.agent}: ${g.gate} ${g.status}: ${g.reasons.join('; ')}`);
}

function reportJson(report: CheckReport) {
  return {
    ok: report.ok,
    environment: report.environment,
    agent: report.agent,
    manifestDigest: report.candidate.digest,
    current: report.current?.record.record.manifestDigest ?? null,
    gateDefinitionDigest: report.gateDefinitionDigest,
    gates: report.gates,
  };
}

/** Runs `fn` with the release signer and an open audit log, closing the log whatever happens. */
async function withWriter<T>(
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

function printOutcome(what: string, out: ReleaseOutcome, json: boolean | undefined, report?: CheckReport): void {
  const r = out.signed.record;
  if (json)
    return printJson({
      ok: true,
      record: r,
      recordDigest: out.signed.digest,
      recordFile: out.recordFile,
      manifestFile: out.manifestFile,
      auditSeq: out.auditSeq,
      ...(report ? { gates: report.gates } : {}),
    });
  if (report) printReport(report);
  printLine(`${what} ${r.agent} in ${r.environment}: ${r.manifestDigest}${r.replaces ? ` (was ${r.replaces})` : ''}`);
  printLine(`  release record ${out.signed.digest}\n  file ${out.recordFile}\n  audit seq ${out.auditSeq}`);
}

interface AgentCoreOpts {
  roleArn: string;
  containerUri: string;
  discoveryUrl: string;
  audience: string[];
  target: string;
  mode: string;
}

function agentCoreOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--role-arn <arn>', 'IAM role the gateway and the agent runtime assume')
    .requiredOption('--container-uri <uri>', 'agent container image; {agent} is replaced by the agent name')
    .requiredOption('--discovery-url <url>', 'OIDC discovery URL of the identity provider that issues agent tokens')
    .option('--audience <aud...>', 'allowed token audiences', ['charter-gateway'])
    .option('--target <name>', 'gateway target that fronts the Charter gateway (tool actions are <target>___<tool>)', 'charter')
    .option('--mode <mode>', 'policy engine mode on the gateway: ENFORCE or LOG_ONLY', 'ENFORCE');
}

function settingsFrom(o: AgentCoreOpts): AgentCoreSettings {
  if (o.mode !== 'ENFORCE' && o.mode !== 'LOG_ONLY')
    throw new InputError(`--mode must be ENFORCE or LOG_ONLY, got '${o.mode}'`, { field: '--mode' });
  return {
    roleArn: o.roleArn,
    containerUri: o.containerUri,
    discoveryUrl: o.discoveryUrl,
    allowedAudience: o.audience,
    targetName: o.target,
    mode: o.mode,
  };
}

export function registerRelease(program: Command): void {
  const release = program
    .command('release')
    .description('evidence-based promotion dev -> stg -> prod, rollback and approvals of signed agent manifests');

  selectOptions(
    gateOptions(
      release
        .command('check')
        .description(
          'run every gate of an environment on candidate manifests; a table of gates with their evidence; exit 1 when a required gate blocks',
        ),
    ),
    'check',
  )
    .option('--junit <file>', 'also write a JUnit XML report (one testcase per gate and candidate) for CI systems')
    .option('--sarif <file>', "also write SARIF 2.1.0 (one result per blocking gate, at its entry in the environment's gate file)")
    .action(
      action(async (o: GateOpts & { junit?: string; sarif?: string }) => {
        const opts = await releaseOptions(o);
        const reports: CheckReport[] = [];
        for (const c of candidatesOf(o, opts)) reports.push(await checkRelease(o.env, c.file, opts));
        const ok = reports.every((r) => r.ok);
        writeCiReports(o, `charter release check --env ${o.env}`, RELEASE_CHECK_TOOL, releaseCiCases(reports, o.gates));
        if (o.json)
          printJson(
            reports.length === 1 && !o.all ? reportJson(reports[0]!) : { ok, environment: o.env, reports: reports.map(reportJson) },
          );
        else if (reports.length === 1) printReport(reports[0]!);
        else printMatrix(reports);
        return ok ? 0 : 1;
      }),
    );

  writeOptions(
    selectOptions(
      gateOptions(
        release
          .command('promote')
          .description('run the gates again and, when none blocks, write a signed release record to the release store and the audit plane'),
      ),
      'promote',
    ),
  ).action(
    action(async (o: GateOpts & WriteOpts) => {
      const opts = await releaseOptions(o);
      const candidates = candidatesOf(o, opts);
      if (candidates.length === 1 && !o.all) {
        const out = await withWriter(o, (w) => promote(o.env, candidates[0]!.file, { ...opts, ...w }), o.auditDir);
        return printOutcome('promoted', out, o.json, out.report);
      }
      // Each agent is released on its own evidence: one refusal does not hold back the others.
      const results = await withWriter(
        o,
        async (w) => {
          const done: Array<{ agent: string; file: string; out?: ReleaseOutcome; refused?: string }> = [];
          for (const c of candidates)
            done.push(
              await promote(o.env, c.file, { ...opts, ...w }).then(
                (out) => ({ ...c, out }),
                (err: unknown) => ({ ...c, refused: errorMessage(err) }),
              ),
            );
          return done;
        },
        o.auditDir,
      );
      const refused = results.filter((r) => r.refused).length;
      if (o.json)
        printJson({
          ok: refused === 0,
          environment: o.env,
          results: results.map((r) =>
            r.out
              ? {
                  file: r.file,
                  agent: r.agent,
                  manifestDigest: r.out.signed.record.manifestDigest,
                  recordDigest: r.out.signed.digest,
                  auditSeq: r.out.auditSeq,
                }
              : { file: r.file, agent: r.agent, refused: r.refused },
          ),
        });
      else
        printTable(
          ['agent', 'result', 'manifest / reason'],
          results.map((r) =>
            r.out
              ? [r.agent, 'promoted', `${r.out.signed.record.manifestDigest}\nrecord ${r.out.signed.digest} (audit seq ${r.out.auditSeq})`]
              : [r.agent, 'REFUSED', r.refused!],
          ),
        );
      return refused === 0 ? 0 : 1;
    }),
  );

  writeOptions(
    withJson(release.command('rollback').description('make the release before the current one current again (signed rollback record)')),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to roll back')
    .requiredOption('--reason <text>', 'why (kept in the signed record)')
    .option('--audit-dir <dir>', 'audit log folder (default $CHARTER_HOME/audit)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(
        async (o: WriteOpts & { env: string; agent: string; reason: string; auditDir?: string; trustedKeys?: string; json?: boolean }) => {
          const out = await withWriter(
            o,
            (w) => rollback(o.env, o.agent, { ...w, reason: o.reason, ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}) }),
            o.auditDir,
          );
          printOutcome('rolled back', out, o.json);
        },
      ),
    );

  selectOptions(
    withJson(
      release.command('approve').description('sign a release approval for candidate manifests in an environment with your approval key'),
    ),
    'approve',
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--key <file|kms:id>', 'your approval key (its name in the trusted-keys file is your approver name)')
    .option('--accept-flip <recordId...>', 'decision record ids whose deny -> allow replay flip you accept')
    .option(
      '--waive <check...>',
      'checks that could not run which you accept by name (dependencies, replay, canary, evals:<suite>/<metric>); needs --note',
    )
    .option('--note <text>', 'note kept in the approval (the reason of every waiver)', '')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(
        async (o: {
          env: string;
          manifest?: string;
          agent?: string[];
          all?: boolean;
          key: string;
          acceptFlip?: string[];
          waive?: string[];
          note: string;
          trustedKeys?: string;
          json?: boolean;
        }) => {
          if (o.waive && !o.note.trim()) throw new InputError('a waiver needs its reason: give --note', { field: '--note' });
          const opts = o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {};
          const signer = await loadSigner(o.key);
          const approved = [];
          for (const c of candidatesOf(o, opts)) {
            approved.push(
              await approveRelease(o.env, c.file, {
                signer,
                note: o.note,
                ...(o.acceptFlip ? { acceptReplayFlips: o.acceptFlip } : {}),
                ...(o.waive ? { waivers: o.waive.map((check) => ({ check, reason: o.note })) } : {}),
                ...opts,
              }),
            );
          }
          if (o.json) return printJson({ ok: true, approvals: approved });
          for (const a of approved)
            printLine(
              `approved ${a.manifestDigest} (${a.agent}) for ${o.env} as ${a.approver}${o.waive ? `, waiving ${o.waive.join(', ')}` : ''}\n  ${a.file}`,
            );
        },
      ),
    );

  withJson(
    release.command('status').description('the current release of every agent in an environment, verified (signature and history chain)'),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action((o: { env: string; trustedKeys?: string; json?: boolean }) => {
        const env = parseEnvironment(o.env);
        const ctx = releaseContext(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
        const rows = ctx.store.agents(env).map((agent) => {
          const cur = currentRelease(ctx, env, agent)!;
          const r = cur.record.record;
          return {
            agent,
            action: r.action,
            manifestDigest: r.manifestDigest,
            recordDigest: cur.record.digest,
            releasedAt: r.releasedAt,
            releasedBy: r.releasedBy,
          };
        });
        if (o.json) return printJson({ ok: true, environment: env, releases: rows });
        printTable(
          ['agent', 'last action', 'manifest', 'released at', 'by'],
          rows.map((r) => [r.agent, r.action, r.manifestDigest, r.releasedAt, r.releasedBy]),
        );
      }),
    );

  agentCoreOptions(
    withJson(
      release
        .command('deploy')
        .description("create or update the agent's current release on AgentCore: policy engine, gateway, Cedar policies and agent runtime"),
    ),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to deploy (its current release in the environment)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(async (o: AgentCoreOpts & { env: string; agent: string; trustedKeys?: string; json?: boolean }) => {
        const { plan, deployment } = await deployRelease(
          o.env,
          o.agent,
          settingsFrom(o),
          o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {},
        );
        if (o.json) return printJson({ ok: true, manifestDigest: plan.manifestDigest, recordDigest: plan.recordDigest, deployment });
        printLine(`deployed ${plan.agent} (${plan.manifestDigest}) to AgentCore ${plan.environment}`);
        printTable(
          ['resource', 'name', 'id', 'action'],
          [
            ['policy engine', plan.policyEngine.name, deployment.policyEngine.id, deployment.policyEngine.action],
            ['gateway', plan.gateway.name, deployment.gateway.id, deployment.gateway.action],
            ...deployment.policies.map((p) => ['policy', p.name, p.id, p.action]),
            ['agent runtime', plan.runtime.name, `${deployment.runtime.id} v${deployment.runtime.version}`, deployment.runtime.action],
          ],
        );
      }),
    );

  agentCoreOptions(
    release.command('terraform').description('emit Terraform (HCL) for the AgentCore resources of every agent released in an environment'),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--out <file>', 'write the HCL here instead of stdout')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action((o: AgentCoreOpts & { env: string; out?: string; trustedKeys?: string }) => {
        const hcl = releaseTerraform(o.env, settingsFrom(o), o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
        if (o.out) writeFileAtomic(o.out, hcl);
        else process.stdout.write(hcl);
      }),
    );
}
