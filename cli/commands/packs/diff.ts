import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../../common/index.js';
import {
  compileManifest,
  diffManifests,
  loadVerifiedManifest,
  Workspace,
  type ManifestDiff,
  type ManifestSide,
} from '../../../policy-packs/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { defaultTrusted, shippedPacks, withExamples, withPackSearch, workspaceOf, type SearchOptions } from './shared.js';

interface DiffOpts extends SearchOptions {
  agent?: string;
  trustedKeys?: string;
  json?: boolean;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * One side of a packs-folder diff: the folder in place of the --packs folders, so the shipped
 * packs stay on the search path unless --no-shipped (a complete tree on each side).
 */
function sideFromDir(dir: string, opts: DiffOpts, label: string): { side: ManifestSide; ws: Workspace } {
  if (!opts.agent) throw new InputError(`comparing packs folders needs --agent NAME (${label} is a folder)`, { field: '--agent' });
  const ws = workspaceOf({ packs: [dir], shipped: opts.shipped });
  const compiled = compileManifest(ws, opts.agent);
  return { side: { manifest: compiled.manifest, digest: compiled.digest }, ws };
}

function printDiff(diff: ManifestDiff): void {
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
    printLine(`  ${d.key}: ${d.old.decision} [${d.old.determining.join(', ')}] -> ${d.new.decision} [${d.new.determining.join(', ')}]`);
}

function diff(oldRef: string, newRef: string, opts: DiffOpts): number {
  let oldSide: ManifestSide;
  let newSide: ManifestSide;
  let corpus: Workspace[];
  if (isDir(oldRef) !== isDir(newRef))
    throw new InputError('compare two manifests or two packs folders, not one of each', { file: newRef });
  if (isDir(oldRef)) {
    const a = sideFromDir(oldRef, opts, oldRef);
    const b = sideFromDir(newRef, opts, newRef);
    [oldSide, newSide, corpus] = [a.side, b.side, [b.ws, a.ws]];
  } else {
    const trusted = opts.trustedKeys ?? defaultTrusted();
    oldSide = loadVerifiedManifest(oldRef, trusted);
    newSide = loadVerifiedManifest(newRef, trusted);
    corpus = [opts.packs.length > 0 ? workspaceOf(opts) : new Workspace(shippedPacks())];
  }
  const result = diffManifests(oldSide, newSide, corpus);
  if (opts.json) printJson({ ok: true, ...result });
  else printDiff(result);
  return 0;
}

export function registerDiff(packs: Command): void {
  const cmd = withPackSearch(
    withJson(
      packs
        .command('diff')
        .description(
          'compare two signed manifests, or two packs folders for one --agent: policies, tools and tiers, and corpus requests whose decision changes',
        ),
    ),
  )
    .argument('<old>', 'old manifest file or packs folder')
    .argument('<new>', 'new manifest file or packs folder')
    .option('--agent <name>', 'the agent (required when comparing packs folders)')
    .option('--trusted-keys <file>', 'trusted keys to verify manifests (default: $CHARTER_HOME/keys/trusted-keys.json)');
  withExamples(cmd, [
    'charter packs diff old.manifest.json new.manifest.json',
    'charter packs diff ./my-packs-v1 ./my-packs --agent my-agent',
    'charter packs diff ./fork-old ./fork-new --agent my-agent --no-shipped',
  ]).action(action((oldRef: string, newRef: string, opts: DiffOpts) => diff(oldRef, newRef, opts)));
}
