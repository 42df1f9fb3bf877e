import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  compiledManifestFile,
  contentPath,
  errorMessage,
  homeConfigFile,
  FindingError,
  InputError,
  readText,
  readYaml,
  writeFileAtomic,
} from '../../common/index.js';
import { parseDocument } from 'yaml';
import { AGENT_NAMES } from '../../agents/index.js';
import { sampleRequisition, type NegotiationState } from '../../orchestrator/index.js';
import { startLocalObjectLockS3, writeAuditSettings, type LocalObjectLockS3 } from '../../audit/index.js';
import { tableText } from '../output.js';
import { action } from '../program.js';
import { DemoScreen, STEP_LINES } from './demo-screen.js';
import { injectedDirectory, INJECTED_SUPPLIER, STAND_IN_MODEL, standInModels } from './demo-stand-in.js';
import { openHomeStack } from './negotiations/home.js';
import { progressLine, SUMMARY_HEAD, summaryRow } from './negotiations/shared.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

const TENANTS = ['acme', 'globex', 'initech'];
const APPROVER = 'alice';

/** The buyer-side approver of the demo: the award they approve (initech's) is within their tenants and limit. */
const DEMO_APPROVERS = `# Who may approve what (see charter init's starter file).
approvers:
  ${APPROVER}:
    tenants: [acme, initech]
    spendLimitCents: 25000000   # 250,000.00
    roles: [buyer]
`;
const RELEASE_APPROVER = 'release-approver-1';
const AUDIT_BUCKET = 'charter-demo';

/**
 * The demo's audit trail: S3 Object Lock (COMPLIANCE) on the project's local radosgw, whose
 * state is kept in the home (`object-lock-s3/`), recorded in the home's config.yaml so every
 * writer and reader uses it. Where the server is not installed (no root, not Debian) the demo
 * says so and records the local directory sink instead; any other failure to start stops it.
 */
async function startAuditSink({ home, screen }: Demo): Promise<LocalObjectLockS3 | null> {
  let s3: LocalObjectLockS3;
  try {
    s3 = await startLocalObjectLockS3({ keep: join(home, 'object-lock-s3') });
  } catch (err) {
    const message = errorMessage(err);
    if (!/ is missing: run /.test(message)) throw err;
    screen.line(
      `  the local S3 Object Lock server is not installed here (${/(\S+ is missing)/.exec(message)![1]}; scripts/setup.sh installs it where it has root and apt): the trail goes to the local directory sink (development only: tamper-evident, not WORM)`,
    );
    writeAuditSettings(home, { sink: 'local' });
    return null;
  }
  await s3.createLockedBucket(AUDIT_BUCKET, 1);
  writeAuditSettings(home, {
    sink: `s3://${AUDIT_BUCKET}/audit`,
    endpoint: s3.endpoint,
    region: 'us-east-1',
    retentionDays: 1,
    credentials: s3.credentials,
    localServer: s3.dir,
  });
  screen.line(`  local S3 Object Lock server (Ceph radosgw) at ${s3.endpoint}, state in ${s3.dir}; wrote ${homeConfigFile(home)}`);
  return s3;
}

/**
 * The demo's world: `charter init`'s tenants.yaml (the config store the runtime reads), where
 * initech's low spend threshold sends its award to a human, plus one misconfiguration: globex's
 * spot-bidding agent gets a spot ceiling above the tenant's limit. The gateway, which decides on
 * the tenant's limits, refuses its solicitation and the negotiation goes to compliance review.
 */
function misconfigureSpotBidding(tenantsFile: string): void {
  const doc = parseDocument(readText(tenantsFile));
  doc.setIn(['tenants', 'globex', 'agents'], doc.createNode({ 'spot-bidding': { limits: { maxSpotBidCents: 10000000 } } }));
  writeFileAtomic(tenantsFile, doc.toString());
}

/** Traffic on the staging release: every agent acts at least once (the prod canary needs it). */
function stagingPlan() {
  return [
    ...[0, 1, 2, 3].map((i) => sampleRequisition('acme', i)),
    ...[0, 1, 2].map((i) => sampleRequisition('globex', i)),
    // A failure path: nobody delivers to this region, validation cancels the requisition.
    sampleRequisition('initech', 1, { deliveryRegion: 'antarctica' }),
  ];
}

/** Runs a child process to its end: exit code and output. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', fail).once('close', (code) => done({ code: code ?? 2, stdout, stderr }));
  });
}

/** The demo's home and its output (the screen, each step within a budget, and the full log). */
interface Demo {
  home: string;
  screen: DemoScreen;
}

/** The demo's full log: every step, command and line of output; the screen shows a summary of each step. */
function demoLog(home: string): string {
  return join(home, 'logs', 'demo.log');
}

/** The last `n` of `lines`, after a line saying how many came before (n = 0: only that line). */
function tailOf(lines: string[], n: number | undefined): string[] {
  if (n === undefined || lines.length <= n) return lines;
  return [`… (${lines.length - n} lines)`, ...lines.slice(lines.length - n)];
}

/**
 * Runs `charter ...` in a child process on the demo home: the command and all its output go to
 * the log, the command and the last `tail` (or first `head`) lines of its output to the screen.
 * Asynchronous on purpose: the demo's own process serves the gateway and the tools meanwhile.
 */
async function charter(
  d: Demo,
  args: string[],
  opts: { tail?: number; head?: number; allowFail?: boolean; quiet?: boolean } = {},
): Promise<{ code: number; stdout: string }> {
  const command = `  $ charter ${args.join(' ')}`;
  const r = await run([CLI, ...args], { ...process.env, CHARTER_HOME: d.home });
  const lines = `${r.stdout}${r.stderr}`
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '');
  d.screen.log(`${command}  (exit ${r.code})`);
  for (const l of lines) d.screen.log(`    ${l}`);
  if (!opts.quiet) {
    d.screen.show(command);
    for (const l of opts.head !== undefined ? lines.slice(0, opts.head) : tailOf(lines, opts.tail)) d.screen.show(`    ${l}`);
  }
  if (r.code !== 0 && !opts.allowFail)
    throw new FindingError(`charter ${args.join(' ')} exited ${r.code}${opts.quiet ? `: ${lines.slice(-3).join(' ')}` : ''}`);
  return { code: r.code, stdout: r.stdout };
}

const SuiteTarget = z.object({ target: z.object({ kind: z.string(), agent: z.string().optional() }) });

const CheckJson = z.object({
  reports: z.array(
    z.object({
      agent: z.string(),
      gates: z.array(
        z.object({
          gate: z.string(),
          status: z.string(),
          blocking: z.boolean(),
          reasons: z.array(z.string()),
          unchecked: z.array(z.string()).optional(),
        }),
      ),
    }),
  ),
});

/**
 * Releases every agent to `env`: the gates run on each candidate; the release approver signs an
 * approval where the environment asks for one, and accepts by name, with the reason, exactly the
 * checks that could not run on this machine (no judge model, no reachable advisory database).
 * Anything else that blocks stops the demo at `promote`. `show` prints one agent's gate table first.
 */
async function releaseTo(d: Demo, env: string, evidence: string[], opts: { approve: boolean; show?: string }): Promise<void> {
  const check = CheckJson.parse(
    JSON.parse(
      (await charter(d, ['release', 'check', '--env', env, '--all', ...evidence, '--json'], { quiet: true, allowFail: true })).stdout,
    ),
  );
  // One approval per distinct set of waivers, for all the agents that need that set.
  const bySet = new Map<string, { agents: string[]; waive: string[]; why: string[] }>();
  for (const r of check.reports) {
    const gaps = r.gates.filter((g) => g.blocking && g.status === 'not-run' && g.unchecked);
    if (!opts.approve && gaps.length === 0) continue;
    const waive = gaps.flatMap((g) => g.unchecked!);
    const group = bySet.get(waive.join(' ')) ?? { agents: [], waive, why: [] };
    group.agents.push(r.agent);
    group.why.push(...gaps.flatMap((g) => g.reasons.filter((x) => !x.startsWith('not checked and not waived') && !group.why.includes(x))));
    bySet.set(waive.join(' '), group);
  }
  for (const g of bySet.values()) {
    const note = g.waive.length ? `offline demo: ${g.why.join('; ').slice(0, 300)}` : `release to ${env}`;
    const who = g.agents.length === check.reports.length ? ['--all'] : ['--agent', ...g.agents];
    await charter(d, [
      'release',
      'approve',
      '--env',
      env,
      ...who,
      '--key',
      join(d.home, 'keys', `${RELEASE_APPROVER}.key.pem`),
      ...(g.waive.length ? ['--waive', ...g.waive] : []),
      '--note',
      note,
    ]);
  }
  // One agent's gate table with all its evidence (replay, canary, waivers), as the approver saw it.
  if (opts.show) await charter(d, ['release', 'check', '--env', env, '--agent', opts.show, ...evidence]);
  await charter(d, ['release', 'promote', '--env', env, '--all', ...evidence]);
}

/**
 * `charter demo`: a fresh home, keys, pack tests, signed manifests, the eval suites, release to
 * dev and stg through the gates, negotiations of three tenants on the staging release, promotion
 * to prod with replay and canary over that traffic and a release approver's signature, a
 * negotiation on prod approved by a human through `charter approvals approve`, then
 * `charter audit verify` and sample queries. Works offline and without a model: every agent
 * says `strategy: rules`, and what needs a model is reported as not run.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the procurement reference end to end in a fresh Charter home (offline, no model needed)')
    .addHelpText(
      'after',
      '\nThe demo home is --home when given, else a new .charter/demo-<timestamp>.\n\nExamples:\n  $ charter demo\n  $ charter --home /tmp/charter-demo demo',
    )
    .action(
      action(async (_opts: object, cmd: Command) => {
        const home = resolve(
          cmd.optsWithGlobals<{ home?: string }>().home ??
            join('.charter', `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`),
        );
        if (existsSync(join(home, 'keys', 'manifest-signer.key.pem')))
          throw new InputError('the demo needs a fresh home: this one already has keys', { file: home });
        const STEPS = 12;
        const t0 = performance.now();
        let n = 0;
        const screen = new DemoScreen(demoLog(home));
        const d: Demo = { home, screen };
        const step = (title: string) => screen.step(`\n== ${++n}/${STEPS} ${title} (at ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        screen.line(`Charter demo in ${home} (each step in at most ${STEP_LINES} lines here; all of it in ${screen.logFile})`);
        step('the audit trail: an S3 bucket with Object Lock in COMPLIANCE mode (every writer below seals into it)');
        let s3: LocalObjectLockS3 | null = null;
        try {
          s3 = await startAuditSink(d);
          await charter(d, ['audit', 'sink']);
          await runDemo(d, step);
        } finally {
          await s3?.stop();
          // What the last step held back for its end, shown before the outcome (or the error).
          screen.end();
        }
        if (s3)
          screen.line(
            `\naudit trail: s3://${AUDIT_BUCKET}/audit on the local Object Lock server, stopped now with its data kept in ${s3.dir} (config.yaml names it);\n  verify it again: ${s3.restartCommand} && CHARTER_HOME=${home} charter audit verify --trusted-keys ${join(home, 'keys', 'trusted-keys.json')}`,
          );
        screen.line(
          `\nconsole${s3 ? " (with the trail's server started as above)" : ''}: CHARTER_HOME=${home} charter console token --as ada --role auditor,\n  then CHARTER_HOME=${home} charter console: open the URL it prints and paste the token`,
        );
        return 0;
      }),
    );
}

/**
 * One negotiation whose spot-bidding agent runs the scripted stand-in for a compromised model
 * (not a model: the demo reaches none): it follows the instruction planted in a supplier's name
 * and proposes terminate_supplier_contract. The gateway denies it (not a tool of that agent's
 * manifest), the audit trail records it, and the negotiation goes to compliance review.
 */
async function runCompromised(
  { home, screen }: Demo,
  world: Parameters<typeof openHomeStack>[1],
  extra: { onEvent: (e: Parameters<typeof progressLine>[0]) => void },
): Promise<NegotiationState> {
  screen.line(`  ${STAND_IN_MODEL}: scripted stand-in, not a model; supplier ${INJECTED_SUPPLIER}'s name carries the injected instruction`);
  const stand = standInModels(join(home, 'tenants.yaml'));
  const stack = await openHomeStack(home, world, { ...extra, ...stand, directory: injectedDirectory(world.tenants) });
  try {
    const n = await stack.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 8));
    if (n.status !== 'REQUIRES_ATTENTION' || n.attention?.trigger !== 'tool_refused')
      throw new FindingError(
        `the compromised negotiation ${n.negotiationId} ended ${n.status} (${n.reason ?? ''}), not in compliance review`,
      );
    screen.line(
      `  ${n.negotiationId}: ${n.status} (${n.attention.trigger}: ${String(n.attention.details.reason)}); compliance case ${n.attention.caseId}`,
    );
    return n;
  } finally {
    await stack.close();
  }
}

/** The demo from the keys to the summary, on a home whose audit sink is set. */
async function runDemo(d: Demo, step: (title: string) => void): Promise<void> {
  const { home, screen } = d;
  step('signing keys (manifests, audit checkpoints, eval reports, release records, approvers, agent envelopes) and the tenants');
  await charter(d, ['init']);
  for (const name of [RELEASE_APPROVER, APPROVER]) await charter(d, ['keys', 'generate', '--name', name, '--purpose', 'approval']);
  writeFileAtomic(join(home, 'approvers.yaml'), DEMO_APPROVERS);
  screen.line(`  wrote ${join(home, 'approvers.yaml')}: ${APPROVER} approves purchase orders of acme and initech up to 250,000.00`);
  misconfigureSpotBidding(join(home, 'tenants.yaml'));
  screen.line(`  edited ${join(home, 'tenants.yaml')}: globex's spot-bidding agent gets a spot ceiling above the tenant's limit`);

  step('policy pack tests (kept as release evidence), then compile and sign every agent manifest');
  const testReport = join(home, 'evidence', 'pack-tests.json');
  await charter(d, ['packs', 'test', '--report', testReport], { tail: 3 });
  await charter(d, ['packs', 'compile', '--all'], { tail: 16 });

  step('eval suites (signed reports)');
  const manifest = (agent: string) => compiledManifestFile(home, agent);
  const suites = z
    .object({ suites: z.array(z.object({ suite: z.string() })) })
    .parse(JSON.parse((await charter(d, ['evals', 'list', '--json'], { tail: 0 })).stdout))
    .suites.map((s) => s.suite);
  const evalResults: Array<[string, string]> = [];
  for (const suite of suites) {
    const { target } = readYaml(contentPath('evals', 'suites', `${suite}.yaml`), SuiteTarget);
    const manifests = target.agent ? [manifest(target.agent)] : AGENT_NAMES.map(manifest);
    const r = await charter(d, ['evals', 'run', suite, '--manifest', ...manifests], { head: 1, allowFail: true });
    evalResults.push([suite, r.code === 0 ? 'pass' : `fail (exit ${r.code})`]);
  }

  const evidence = ['--test-report', testReport, '--live-entities'];
  step('release gates: dev, then stg (a check first: what blocks, and why)');
  await charter(d, ['release', 'check', '--env', 'dev', '--all', ...evidence], { allowFail: true });
  await releaseTo(d, 'dev', evidence, { approve: false });
  await releaseTo(d, 'stg', evidence, { approve: false });

  const world = { tenants: TENANTS, latencyMs: 20 };
  const onEvent = { onEvent: (e: Parameters<typeof progressLine>[0]) => screen.line(progressLine(e)) };
  step('negotiations on the staging release (progress per node)');
  let results: NegotiationState[];
  const stg = await openHomeStack(home, { ...world, env: 'stg' }, onEvent);
  try {
    results = await Promise.all(stagingPlan().map((r) => stg.stack.orchestrator.negotiate(r.negotiationId.split('-')[0]!, r)));
  } finally {
    await stg.close();
  }

  step('release gates: prod (decision replay and canary over the staging traffic, a release approver signs)');
  await releaseTo(d, 'prod', evidence, { approve: true, show: 'award-communications' });
  await charter(d, ['release', 'status', '--env', 'prod']);

  step(
    'negotiations on the production release, each agent its own process; a human approves the award above the threshold (charter approvals)',
  );
  let approved: NegotiationState;
  // In prod each agent is its own process behind the AgentCore Runtime contract, reaching
  // tools through the gateway over HTTP with a per-invocation identity token.
  const prod = await openHomeStack(home, { ...world, env: 'prod' }, { ...onEvent, agentProcesses: { home } });
  try {
    const waiting = await prod.stack.orchestrator.negotiate('initech', sampleRequisition('initech', 0));
    if (waiting.status !== 'AWAITING_APPROVAL')
      throw new FindingError(`initech's award did not wait for approval (${waiting.status}): the spend threshold did not apply`);
    await charter(d, ['approvals', 'list', '--status', 'pending']);
    // The approver is whoever holds the key: the trusted-keys file names it (alice), no flag does.
    await charter(d, ['approvals', 'approve', waiting.approval!.approvalId!, '--key', join(home, 'keys', `${APPROVER}.key.pem`)]);
    approved = await prod.stack.orchestrator.run(waiting.tenantId, waiting.negotiationId);
    results.push(approved, await prod.stack.orchestrator.negotiate('acme', sampleRequisition('acme', 4)));
  } finally {
    await prod.close();
  }

  step(`a compromised model on prod: acme's spot-bidding agent runs a ${STAND_IN_MODEL}, and a supplier's name carries an instruction`);
  results.push(await runCompromised(d, { ...world, env: 'prod' }, onEvent));

  step('the audit trail: sample queries (the award, the refused spot solicitation, the injected call, the release records)');
  await charter(d, ['audit', 'query', '--tenant', approved.tenantId, '--tool', 'issue_purchase_order'], { tail: 10 });
  await charter(d, ['audit', 'query', '--tenant', 'globex', '--decision', 'deny'], { tail: 8 });
  const injected = await charter(d, ['audit', 'query', '--tenant', 'acme', '--tool', 'terminate_supplier_contract', '--format', 'json'], {
    quiet: true,
  });
  await charter(d, ['audit', 'query', '--tenant', 'acme', '--tool', 'terminate_supplier_contract'], { tail: 4 });
  const calls = z.array(z.object({ agentId: z.string(), decision: z.string() })).parse(JSON.parse(injected.stdout));
  if (calls.length === 0 || calls.some((c) => c.decision !== 'deny'))
    throw new FindingError(`the injected terminate_supplier_contract call is not a recorded deny: ${injected.stdout.slice(0, 300)}`);
  await charter(d, ['audit', 'query', '--kind', 'evidence', '--limit', '40'], { tail: 12 });

  step('summary');
  screen.line(tableText(SUMMARY_HEAD, results.map(summaryRow)));
  screen.line(tableText(['eval suite', 'result'], evalResults));
  screen.line(
    `\nhome: ${home}\n  inspect: charter negotiations list --tenant acme --env prod --home ${home}\n           CHARTER_HOME=${home} charter release status --env prod`,
  );
  if (approved.status !== 'AWARDED')
    throw new FindingError(
      `the approved negotiation ${approved.negotiationId} ended ${approved.status} (${approved.reason ?? ''}), not AWARDED`,
    );

  step('the audit trail: verify every segment and signed checkpoint where it is stored');
  // The demo plays writer and auditor at once, so it names the home's keys explicitly; a real auditor brings their own.
  const verify = await charter(d, ['audit', 'verify', '--trusted-keys', join(home, 'keys', 'trusted-keys.json')], {
    tail: 8,
    allowFail: true,
  });
  if (verify.code !== 0) throw new FindingError('the audit trail does not verify');
}
