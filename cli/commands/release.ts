import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError, writeFileAtomic } from '../../common/index.js';
import { LocalKeySigner, loadPrivateKey, loadSigner } from '../../signing/index.js';
import { openAuditLog } from '../../audit/index.js';
import {
  approveRelease,
  candidateFromLowerEnvironment,
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
  type ReleaseOptions,
  type ReleaseOutcome,
} from '../../release-gates/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';

interface GateOpts {
  env: string;
  manifest?: string;
  agent?: string;
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

function releaseOptions(o: GateOpts): ReleaseOptions {
  return {
    ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}),
    ...(o.gates ? { gatesDir: o.gates } : {}),
    ...(o.testReport ? { testReport: o.testReport } : {}),
    ...(o.packs ? { packsDir: o.packs } : {}),
    ...(o.scan ? { scanPaths: o.scan } : {}),
    ...(o.evalReport ? { evalReports: o.evalReport } : {}),
    ...(o.auditDir ? { auditDir: o.auditDir } : {}),
    ...(o.entities ? { entitiesFile: o.entities } : {}),
    ...(o.approval ? { approvalFiles: o.approval } : {}),
  };
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
    .option('--approval <file...>', 'signed release approvals (those filed by `charter release approve` are found too)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)');
}

function writeOptions(cmd: Command): Command {
  return cmd
    .option('--key <file|kms:id>', 'release-record signing key (default $CHARTER_HOME/keys/release-signer.key.pem)')
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints (default $CHARTER_HOME/keys/audit.key.pem)')
    .option('--audit-origin <origin>', 'audit checkpoint origin', 'charter.local/audit');
}

function printReport(report: CheckReport): void {
  printLine(`${report.agent} -> ${report.environment}: manifest ${report.candidate.digest}`);
  printLine(`  current release: ${report.current ? report.current.record.record.manifestDigest : 'none'}`);
  printTable(
    ['gate', 'enforcement', 'status', 'evidence'],
    report.gates.map((g) => [g.gate, g.enforcement, g.blocking ? `${g.status.toUpperCase()} (blocks)` : g.status, [g.summary, ...g.reasons.map((r) => `- ${r}`)].join('\n')]),
  );
  printLine(report.ok ? 'all required gates pass' : `blocked by: ${report.gates.filter((g) => g.blocking).map((g) => g.gate).join(', ')}`);
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
async function withWriter<T>(o: WriteOpts, fn: (w: { signer: Awaited<ReturnType<typeof loadSigner>>; audit: Awaited<ReturnType<typeof openAuditLog>> }) => Promise<T>, auditDir?: string): Promise<T> {
  const keys = join(charterHome(), 'keys');
  const signer = await loadSigner(o.key ?? join(keys, 'release-signer.key.pem'));
  const audit = await openAuditLog({ dir: auditDir ?? join(charterHome(), 'audit'), signer: new LocalKeySigner(loadPrivateKey(o.auditKey ?? join(keys, 'audit.key.pem'))), origin: o.auditOrigin });
  try {
    return await fn({ signer, audit });
  } finally {
    await audit.close();
  }
}

function printOutcome(what: string, out: ReleaseOutcome, json: boolean | undefined, report?: CheckReport): void {
  const r = out.signed.record;
  if (json) return printJson({ ok: true, record: r, recordDigest: out.signed.digest, recordFile: out.recordFile, manifestFile: out.manifestFile, auditSeq: out.auditSeq, ...(report ? { gates: report.gates } : {}) });
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
  if (o.mode !== 'ENFORCE' && o.mode !== 'LOG_ONLY') throw new InputError(`--mode must be ENFORCE or LOG_ONLY, got '${o.mode}'`, { field: '--mode' });
  return { roleArn: o.roleArn, containerUri: o.containerUri, discoveryUrl: o.discoveryUrl, allowedAudience: o.audience, targetName: o.target, mode: o.mode };
}

export function registerRelease(program: Command): void {
  const release = program.command('release').description('evidence-based promotion dev -> stg -> prod, rollback and approvals of signed agent manifests');

  gateOptions(release.command('check').description('run every gate of an environment on a candidate manifest; a table of gates with their evidence; exit 1 when a required gate blocks'))
    .requiredOption('--manifest <file>', 'candidate signed manifest')
    .action(
      action(async (o: GateOpts) => {
        const report = await checkRelease(o.env, o.manifest!, releaseOptions(o));
        if (o.json) printJson(reportJson(report));
        else printReport(report);
        return report.ok ? 0 : 1;
      }),
    );

  writeOptions(gateOptions(release.command('promote').description('run the gates again and, when none blocks, write a signed release record to the release store and the audit plane')))
    .option('--manifest <file>', 'candidate signed manifest')
    .option('--agent <name>', "promote this agent's current release from the environment below")
    .action(
      action(async (o: GateOpts & WriteOpts) => {
        if (Boolean(o.manifest) === Boolean(o.agent)) throw new InputError('give exactly one of --manifest FILE or --agent NAME', { field: '--manifest' });
        const opts = releaseOptions(o);
        const candidate = o.manifest ?? candidateFromLowerEnvironment(o.env, o.agent!, opts);
        const out = await withWriter(o, (w) => promote(o.env, candidate, { ...opts, ...w }), o.auditDir);
        printOutcome('promoted', out, o.json, out.report);
      }),
    );

  writeOptions(withJson(release.command('rollback').description('make the release before the current one current again (signed rollback record)')))
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to roll back')
    .requiredOption('--reason <text>', 'why (kept in the signed record)')
    .option('--audit-dir <dir>', 'audit log folder (default $CHARTER_HOME/audit)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(async (o: WriteOpts & { env: string; agent: string; reason: string; auditDir?: string; trustedKeys?: string; json?: boolean }) => {
        const out = await withWriter(o, (w) => rollback(o.env, o.agent, { ...w, reason: o.reason, ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}) }), o.auditDir);
        printOutcome('rolled back', out, o.json);
      }),
    );

  withJson(release.command('approve').description('sign a release approval for a manifest in an environment with your approval key'))
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--manifest <file>', 'the signed manifest you approve')
    .requiredOption('--key <file|kms:id>', 'your approval key (its name in the trusted-keys file is your approver name)')
    .option('--accept-flip <recordId...>', 'decision record ids whose deny -> allow replay flip you accept')
    .option('--note <text>', 'note kept in the approval', '')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(async (o: { env: string; manifest: string; key: string; acceptFlip?: string[]; note: string; trustedKeys?: string; json?: boolean }) => {
        const out = await approveRelease(o.env, o.manifest, {
          signer: await loadSigner(o.key),
          note: o.note,
          ...(o.acceptFlip ? { acceptReplayFlips: o.acceptFlip } : {}),
          ...(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {}),
        });
        if (o.json) printJson({ ok: true, ...out });
        else printLine(`approved ${out.manifestDigest} for ${o.env} as ${out.approver}\n  ${out.file}`);
      }),
    );

  withJson(release.command('status').description('the current release of every agent in an environment, verified (signature and history chain)'))
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action((o: { env: string; trustedKeys?: string; json?: boolean }) => {
        const env = parseEnvironment(o.env);
        const ctx = releaseContext(o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
        const rows = ctx.store.agents(env).map((agent) => {
          const cur = currentRelease(ctx, env, agent)!;
          const r = cur.record.record;
          return { agent, action: r.action, manifestDigest: r.manifestDigest, recordDigest: cur.record.digest, releasedAt: r.releasedAt, releasedBy: r.releasedBy };
        });
        if (o.json) return printJson({ ok: true, environment: env, releases: rows });
        printTable(['agent', 'last action', 'manifest', 'released at', 'by'], rows.map((r) => [r.agent, r.action, r.manifestDigest, r.releasedAt, r.releasedBy]));
      }),
    );

  agentCoreOptions(withJson(release.command('deploy').description("create or update the agent's current release on AgentCore: policy engine, gateway, Cedar policies and agent runtime")))
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to deploy (its current release in the environment)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(async (o: AgentCoreOpts & { env: string; agent: string; trustedKeys?: string; json?: boolean }) => {
        const { plan, deployment } = await deployRelease(o.env, o.agent, settingsFrom(o), o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
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

  agentCoreOptions(release.command('terraform').description('emit Terraform (HCL) for the AgentCore resources of every agent released in an environment'))
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
