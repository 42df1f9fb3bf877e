import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, compiledManifestFile, contentPath, InputError, writeFileAtomic } from '../../common/index.js';
import { loadSigner, loadTrustedKeys, type TrustedKeysFile } from '../../signing/index.js';
import {
  compileManifest,
  diffManifests,
  envelopeText,
  loadVerifiedManifest,
  runPackTests,
  signManifest,
  Workspace,
  type ManifestSide,
} from '../../policy-packs/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';

const defaultPacks = () => contentPath('policy-packs', 'packs');
const defaultTrusted = () => join(charterHome(), 'keys', 'trusted-keys.json');
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

function percent(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new InputError(`--min-coverage must be a number from 0 to 100, got '${text}'`, { field: '--min-coverage' });
  return n;
}

interface CompileOpts {
  agent?: string;
  all?: boolean;
  packs?: string;
  key?: string;
  previous?: string;
  trustedKeys?: string;
  out?: string;
  outDir?: string;
  json?: boolean;
}

/** A manifest nobody can verify, or one signed by a key trusted for something else, is refused before signing. */
function requireManifestKey(keyId: string, trusted: TrustedKeysFile, file: string): void {
  const key = trusted.keys.find((k) => k.keyId === keyId);
  if (!key)
    throw new InputError(`signing key ${keyId.slice(0, 16)}… is not in ${file}: nobody could verify the manifest`, { field: '--key' });
  if (!key.purposes.includes('manifest'))
    throw new InputError(`signing key ${key.name} (${keyId.slice(0, 16)}…) has purposes ${key.purposes.join(', ')}, not manifest`, {
      field: '--key',
    });
}

async function compile(opts: CompileOpts): Promise<number> {
  if (Boolean(opts.agent) === Boolean(opts.all)) throw new InputError('give exactly one of --agent NAME or --all', { field: '--agent' });
  if (opts.all && (opts.out || opts.previous))
    throw new InputError('--out and --previous name one manifest: use them with --agent', { field: opts.out ? '--out' : '--previous' });
  if (opts.out && opts.outDir) throw new InputError('give --out or --out-dir, not both', { field: '--out' });
  const ws = new Workspace(opts.packs ?? defaultPacks());
  const agents = opts.all ? ws.catalog.agents() : [opts.agent!];
  const trustedKeys = opts.trustedKeys ?? defaultTrusted();
  const previous = opts.previous ? loadVerifiedManifest(opts.previous, trustedKeys) : undefined;
  if (previous && previous.manifest.agent.name !== opts.agent)
    throw new InputError(`the previous manifest is of agent ${previous.manifest.agent.name}, not of ${opts.agent}`, {
      field: '--previous',
    });
  const signer = await loadSigner(opts.key ?? join(charterHome(), 'keys', 'manifest-signer.key.pem'));
  requireManifestKey(signer.keyId, loadTrustedKeys(trustedKeys), trustedKeys);
  // Compile and sign everything before writing anything: a failure leaves no partial output.
  const outputs = [];
  for (const agent of agents) {
    const compiled = compileManifest(ws, agent, previous);
    const envelope = await signManifest(compiled, signer);
    const file = opts.out ?? (opts.outDir ? join(opts.outDir, `${agent}.manifest.json`) : compiledManifestFile(charterHome(), agent));
    outputs.push({
      agent,
      file,
      digest: compiled.digest,
      baseDigest: compiled.manifest.baseDigest,
      baseChanged: compiled.manifest.baseChanged,
      text: envelopeText(envelope),
    });
  }
  for (const o of outputs) writeFileAtomic(o.file, o.text);
  const summary = outputs.map(({ text: _text, ...rest }) => rest);
  if (opts.json) printJson({ ok: true, keyId: signer.keyId, manifests: summary });
  else
    for (const o of summary)
      printLine(`${o.agent}: ${o.file}\n  digest ${o.digest}${o.baseChanged === null ? '' : `\n  baseChanged ${o.baseChanged}`}`);
  return 0;
}

function sideFromDir(dir: string, agent: string | undefined, label: string): { side: ManifestSide; ws: Workspace } {
  if (!agent) throw new InputError(`comparing packs folders needs --agent NAME (${label} is a folder)`, { field: '--agent' });
  const ws = new Workspace(dir);
  const compiled = compileManifest(ws, agent);
  return { side: { manifest: compiled.manifest, digest: compiled.digest }, ws };
}

export function registerPacks(program: Command): void {
  const packs = program.command('packs').description('policy packs: validate, test with coverage, compile signed agent manifests, diff');

  withJson(
    packs
      .command('validate')
      .description(
        'load, resolve and compose every pack (composition rules, strict Cedar validation); exit 1 on a policy error, 2 on bad input',
      ),
  )
    .option('--packs <dir>', 'packs folder (default: the shipped packs)')
    .action(
      action((opts: { packs?: string; json?: boolean }) => {
        const ws = new Workspace(opts.packs ?? defaultPacks());
        const sets = ws.composeAll().map((s) => ({
          root: s.root.key,
          layer: s.root.meta.layer,
          packs: s.set.packs.map((p) => p.key),
          policies: s.set.policies.size,
          tools: s.set.tools.length,
        }));
        if (opts.json) printJson({ ok: true, sets });
        else
          printTable(
            ['pack', 'layer', 'composed set', 'policies', 'tools'],
            sets.map((s) => [s.root, s.layer, s.packs.join(' '), s.policies, s.tools]),
          );
      }),
    );

  withJson(
    packs
      .command('test')
      .description(
        'run every pack test (own set, then base/domain regression against every agent) with per-policy coverage; exit 1 on a failure or coverage below the minimum',
      ),
  )
    .option('--packs <dir>', 'packs folder (default: the shipped packs)')
    .option('--min-coverage <percent>', 'fail when overall policy coverage is below this percentage', '0')
    .option('--report <file>', 'also write the JSON report here (test evidence for charter release --test-report)')
    .action(
      action((opts: { packs?: string; minCoverage: string; report?: string; json?: boolean }) => {
        const min = percent(opts.minCoverage);
        const report = runPackTests(new Workspace(opts.packs ?? defaultPacks()));
        const ok = report.failures.length === 0 && report.coveragePercent >= min;
        const json = {
          ok,
          cases: report.cases.length,
          failures: report.failures,
          coveragePercent: report.coveragePercent,
          minCoverage: min,
          packs: report.packs,
          policies: report.policies,
        };
        if (opts.report) writeFileAtomic(opts.report, `${JSON.stringify(json, null, 2)}\n`);
        if (opts.json) {
          printJson(json);
        } else {
          for (const f of report.failures) {
            printLine(
              `FAIL ${f.run} [${f.set}] ${f.key}: expected ${f.expect} by [${f.expectedDetermining.join(', ')}], got ${f.decision} by [${f.determining.join(', ')}]${f.errors.length ? ` errors: ${f.errors.join('; ')}` : ''}`,
            );
          }
          printTable(
            ['pack', 'covered', 'policies', 'coverage'],
            report.packs.map((p) => [p.pack, p.covered, p.total, `${p.percent.toFixed(1)}%`]),
          );
          const uncovered = report.policies.filter((p) => p.hits === 0);
          if (uncovered.length) printLine(`not covered: ${uncovered.map((p) => `${p.id} (${p.file})`).join(', ')}`);
          printLine(
            `${report.cases.length} cases, ${report.failures.length} failed, coverage ${report.coveragePercent.toFixed(1)}% (minimum ${min}%)`,
          );
        }
        return ok ? 0 : 1;
      }),
    );

  withJson(packs.command('compile').description("compile an agent's manifest (or every agent's) and sign it as a DSSE envelope"))
    .option('--agent <name>', 'the agent to compile')
    .option('--all', 'compile every agent')
    .option('--packs <dir>', 'packs folder (default: the shipped packs)')
    .option('--key <file|kms:id>', 'signing key: PKCS#8 PEM file or kms:<key id> (default: $CHARTER_HOME/keys/manifest-signer.key.pem)')
    .option('--previous <file>', 'the previous signed manifest of this agent: sets baseChanged and previousManifestDigest')
    .option(
      '--trusted-keys <file>',
      'trusted keys: the signing key must be trusted there for manifest; they verify --previous (default: $CHARTER_HOME/keys/trusted-keys.json)',
    )
    .option('--out <file>', 'output file (default: $CHARTER_HOME/manifests/<agent>.manifest.json)')
    .option('--out-dir <dir>', 'output folder for <agent>.manifest.json')
    .action(action((opts: CompileOpts) => compile(opts)));

  withJson(
    packs
      .command('diff')
      .description(
        'compare two signed manifests, or two packs folders for one --agent: policies, tools and tiers, and corpus requests whose decision changes',
      ),
  )
    .argument('<old>', 'old manifest file or packs folder')
    .argument('<new>', 'new manifest file or packs folder')
    .option('--agent <name>', 'the agent (required when comparing packs folders)')
    .option('--packs <dir>', 'packs folder whose tests are the corpus when comparing manifests (default: the shipped packs)')
    .option('--trusted-keys <file>', 'trusted keys to verify manifests (default: $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action((oldRef: string, newRef: string, opts: { agent?: string; packs?: string; trustedKeys?: string; json?: boolean }) => {
        let oldSide: ManifestSide;
        let newSide: ManifestSide;
        let corpus: Workspace[];
        if (isDir(oldRef) !== isDir(newRef))
          throw new InputError('compare two manifests or two packs folders, not one of each', { file: newRef });
        if (isDir(oldRef)) {
          const a = sideFromDir(oldRef, opts.agent, oldRef);
          const b = sideFromDir(newRef, opts.agent, newRef);
          [oldSide, newSide, corpus] = [a.side, b.side, [b.ws, a.ws]];
        } else {
          const trusted = opts.trustedKeys ?? defaultTrusted();
          oldSide = loadVerifiedManifest(oldRef, trusted);
          newSide = loadVerifiedManifest(newRef, trusted);
          corpus = [new Workspace(opts.packs ?? defaultPacks())];
        }
        const diff = diffManifests(oldSide, newSide, corpus);
        if (opts.json) {
          printJson({ ok: true, ...diff });
          return 0;
        }
        const p = diff.policies;
        printLine(`policies: +${p.added.length} -${p.removed.length} ~${p.changed.length}${diff.baseChanged ? '  (base changed)' : ''}`);
        for (const id of p.added) printLine(`  + ${id}`);
        for (const id of p.removed) printLine(`  - ${id}`);
        for (const id of p.changed) printLine(`  ~ ${id}`);
        printLine(`tools: +${diff.tools.added.length} -${diff.tools.removed.length} ~${diff.tools.changed.length}`);
        for (const t of diff.tools.added) printLine(`  + ${t}`);
        for (const t of diff.tools.removed) printLine(`  - ${t}`);
        for (const c of diff.tools.changed) printLine(`  ~ ${c.name}.${c.field}: ${JSON.stringify(c.old)} -> ${JSON.stringify(c.new)}`);
        for (const l of diff.layers) printLine(`layer ${l.name}: ${l.old ?? '(none)'} -> ${l.new ?? '(none)'}`);
        const flips = diff.decisions.filter((d) => d.decisionChanged);
        printLine(
          `decisions changed: ${flips.length} of ${diff.corpusSize} corpus requests (${diff.decisions.length - flips.length} more keep the decision with other determining policies; --json lists them)`,
        );
        for (const d of flips)
          printLine(
            `  ${d.key}: ${d.old.decision} [${d.old.determining.join(', ')}] -> ${d.new.decision} [${d.new.determining.join(', ')}]`,
          );
        return 0;
      }),
    );
}
