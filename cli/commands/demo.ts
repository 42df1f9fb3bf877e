import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { z } from 'zod';
import { contentPath, FindingError, InputError, readYaml } from '../../common/index.js';
import { AGENT_NAMES } from '../../agents/index.js';
import { sampleRequisition, type NegotiationState } from '../../orchestrator/index.js';
import { printLine, printTable } from '../output.js';
import { action } from '../program.js';
import { openHomeStack, progressLine, SUMMARY_HEAD, summaryRow } from './negotiations.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

/** The demo's world: three tenants; initech's low threshold sends its award to a human. */
const TENANTS = ['acme', 'globex', 'initech'];
const THRESHOLDS = { acme: 5_000_000, globex: 5_000_000, initech: 150_000 };
const APPROVER = 'alice';

function plan() {
  return [
    ...[0, 1, 2, 3].map((i) => sampleRequisition('acme', i)),
    ...[0, 1, 2].map((i) => sampleRequisition('globex', i)),
    sampleRequisition('initech', 0),
    // A failure path: nobody delivers to this region, the delivery gate empties the pool.
    sampleRequisition('initech', 1, { deliveryRegion: 'antarctica' }),
  ];
}

/** Runs `charter ...` in a child process on the demo home; prints the command and its output. */
function charter(home: string, args: string[], opts: { tail?: number; allowFail?: boolean } = {}): { code: number; stdout: string } {
  printLine(`  $ charter ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CHARTER_HOME: home }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = `${r.stdout}${r.stderr}`.trimEnd().split('\n').filter((l) => l !== '');
  const shown = opts.tail !== undefined && lines.length > opts.tail ? [`… (${lines.length - opts.tail} lines)`, ...lines.slice(-opts.tail)] : lines;
  for (const l of shown) printLine(`    ${l}`);
  const code = r.status ?? 2;
  if (code !== 0 && !opts.allowFail) throw new FindingError(`charter ${args.join(' ')} exited ${code}`);
  return { code, stdout: r.stdout };
}

const SuiteTarget = z.object({ target: z.object({ kind: z.string(), agent: z.string().optional() }) });

/**
 * `charter demo`: a fresh home, keys, pack tests, signed manifests, the eval suites, then three
 * tenants' negotiations end to end through the gateway (one approved by a human through
 * `charter approvals approve`), then `charter audit verify` and a sample query. Works offline
 * and without a model: every agent says `strategy: rules`.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the procurement reference end to end in a fresh Charter home (offline, no model needed)')
    .option('--home <dir>', 'demo home (default .charter/demo-<timestamp>)')
    .action(
      action(async (opts: { home?: string }) => {
        const home = resolve(opts.home ?? join('.charter', `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`));
        if (existsSync(join(home, 'keys', 'manifest-signer.key.pem'))) throw new InputError('the demo needs a fresh home: this one already has keys', { file: home });
        const step = (n: number, title: string) => printLine(`\n== ${n}/7 ${title}`);
        printLine(`Charter demo in ${home}`);

        step(1, 'signing keys (manifests, audit checkpoints, eval reports, an approver)');
        for (const [name, purpose] of [['manifest-signer', 'manifest'], ['audit', 'audit-checkpoint'], ['eval-report', 'eval-report'], [APPROVER, 'approval']]) {
          charter(home, ['keys', 'generate', '--name', name!, '--purpose', purpose!]);
        }

        step(2, 'policy pack tests, then compile and sign every agent manifest');
        charter(home, ['packs', 'test'], { tail: 3 });
        charter(home, ['packs', 'compile', '--all'], { tail: 16 });

        step(3, 'eval suites (signed reports)');
        const manifest = (agent: string) => join(home, 'manifests', `${agent}.manifest.json`);
        const suites = z.object({ suites: z.array(z.string()) }).parse(JSON.parse(charter(home, ['evals', 'list', '--json'], { tail: 0 }).stdout)).suites;
        const evalResults: Array<[string, string]> = [];
        for (const suite of suites) {
          const { target } = readYaml(contentPath('evals', 'suites', `${suite}.yaml`), SuiteTarget);
          const manifests = target.agent ? [manifest(target.agent)] : AGENT_NAMES.map(manifest);
          const r = charter(home, ['evals', 'run', suite, '--manifest', ...manifests], { tail: 4, allowFail: true });
          evalResults.push([suite, r.code === 0 ? 'pass' : `fail (exit ${r.code})`]);
        }

        step(4, `negotiations of ${TENANTS.join(', ')} through the gateway (progress per node)`);
        const h = await openHomeStack(home, { tenants: TENANTS, latencyMs: 20, spendThresholdCents: THRESHOLDS }, { onEvent: (e) => printLine(progressLine(e)) });
        let results: NegotiationState[];
        let approved: NegotiationState | undefined;
        try {
          results = await Promise.all(plan().map((r) => h.stack.orchestrator.negotiate(r.negotiationId.split('-')[0]!, r)));

          step(5, 'a human approves the award above the spend threshold (charter approvals)');
          const waiting = results.find((r) => r.status === 'AWAITING_APPROVAL');
          if (!waiting) throw new FindingError('no negotiation waited for approval: the spend threshold did not apply');
          charter(home, ['approvals', 'list', '--status', 'pending']);
          charter(home, ['approvals', 'approve', waiting.approval!.approvalId!, '--as', APPROVER, '--key', join(home, 'keys', `${APPROVER}.key.pem`)]);
          approved = await h.stack.orchestrator.run(waiting.tenantId, waiting.negotiationId);
          results = results.map((r) => (r.negotiationId === approved!.negotiationId ? approved! : r));
        } finally {
          await h.close();
        }

        step(6, 'the audit trail: verify it, then a sample query');
        const verify = charter(home, ['audit', 'verify'], { tail: 8, allowFail: true });
        charter(home, ['audit', 'query', '--tenant', approved.tenantId, '--tool', 'issue_purchase_order'], { tail: 10 });
        charter(home, ['audit', 'query', '--tenant', 'acme', '--limit', '12'], { tail: 16 });

        step(7, 'summary');
        printTable(SUMMARY_HEAD, results.map(summaryRow));
        printTable(['eval suite', 'result'], evalResults);
        printLine(`\nhome: ${home}\n  resume or inspect: charter negotiations list --tenant acme --home ${home}`);
        if (verify.code !== 0) throw new FindingError('the audit trail does not verify');
        if (approved.status !== 'AWARDED') throw new FindingError(`the approved negotiation ${approved.negotiationId} ended ${approved.status} (${approved.reason ?? ''}), not AWARDED`);
        return 0;
      }),
    );
}
