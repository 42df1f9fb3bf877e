import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { InputError, writeFileAtomic } from '../../../common/index.js';
import { runPackTests, scaffoldIntentPack, Workspace, type ScaffoldedPack } from '../../../policy-packs/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { packSchemas, schemaFiles } from '../../schemas.js';
import { shippedPacks, withExamples } from './shared.js';

interface NewOpts {
  agent: string;
  dir: string;
  domain?: string;
  tool: string[];
  owner?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];
const posix = (p: string) => p.split('\\').join('/');
const holdsPacks = (dir: string) =>
  existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => basename(String(f)) === 'pack.yaml');

/** The workspace a new pack must fit: the folder's packs (when it has any), then the shipped packs. */
function workspaceFor(dir: string): Workspace {
  return holdsPacks(dir) ? Workspace.search({ own: [dir], shipped: shippedPacks() }) : new Workspace(shippedPacks());
}

/** Writes the pack into a hidden staging folder, then renames it into place: never a half-made pack. */
function writePack(dir: string, pack: ScaffoldedPack): string {
  const target = join(dir, pack.folder);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}-`));
  try {
    for (const f of pack.files) {
      mkdirSync(dirname(join(staging, f.path)), { recursive: true });
      writeFileSync(join(staging, f.path), f.text);
    }
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return target;
}

/** Runs the new pack's own tests before it is written: a scaffold that does not pass is a bug, not a start. */
function checkPasses(dir: string, pack: ScaffoldedPack, agent: string): void {
  const trial = mkdtempSync(join(tmpdir(), 'charter-new-'));
  try {
    writePack(trial, pack);
    const report = runPackTests(Workspace.search({ own: [trial, ...(holdsPacks(dir) ? [dir] : [])], shipped: shippedPacks() }), (t) =>
      t.pack.startsWith(`${agent}@`),
    );
    const failed = report.failures[0];
    if (failed || report.cases.length === 0)
      throw new InputError(
        `the first test written for ${agent} does not pass (${failed ? `${failed.test}: ${failed.decision} by [${failed.determining.join(', ')}]` : 'no case'}): name another tool with --tool`,
        { field: '--tool' },
      );
  } finally {
    rmSync(trial, { recursive: true, force: true });
  }
}

function scaffold(opts: NewOpts): number {
  const dir = opts.dir;
  const target = join(dir, 'intent', opts.agent);
  if (existsSync(target))
    throw new InputError('the pack folder already exists: packs new never overwrites; choose another --agent or --dir', { file: target });
  const ws = workspaceFor(dir);
  const schemas = join(dir, 'schemas');
  const pack = scaffoldIntentPack(ws, {
    agent: opts.agent,
    tools: opts.tool,
    ...(opts.domain ? { domain: opts.domain } : {}),
    ...(opts.owner ? { owner: opts.owner } : {}),
    schemaRef: (from, schema) => posix(relative(dirname(join(target, from)), join(schemas, schema))),
  });
  mkdirSync(dir, { recursive: true });
  checkPasses(dir, pack, opts.agent);
  // The schemas are generated, not authored: refreshing them keeps them in step with this Charter.
  const schemaOut = schemaFiles(packSchemas(), schemas);
  writePack(dir, pack);
  for (const f of schemaOut) writeFileAtomic(f.path, f.text);
  const created = pack.files.map((f) => join(target, f.path));
  if (opts.json) {
    printJson({ ok: true, agent: opts.agent, pack: target, created, schemas: schemaOut.map((f) => f.path) });
    return 0;
  }
  printLine(`created intent pack ${opts.agent} in ${target}:`);
  for (const f of created) printLine(`  ${f}`);
  printLine(`wrote the JSON Schemas your editor checks these files against to ${schemas}`);
  printLine('next:');
  printLine(`  charter packs test --packs ${dir} --filter ${opts.agent}`);
  printLine(`  charter packs compile --packs ${dir} --agent ${opts.agent} --out ${join(dir, `${opts.agent}.manifest.json`)}`);
  return 0;
}

export function registerNew(packs: Command): void {
  const cmd = withJson(
    packs
      .command('new')
      .description(
        'scaffold an intent pack for a new agent in a packs folder of your own: pack.yaml, a permit per tool, a first passing test; extends the shipped base and domain packs; never overwrites',
      ),
  )
    .requiredOption('--agent <name>', 'the new agent (lower-case letters, digits and -)')
    .option('--dir <dir>', 'your packs folder; the pack goes to <dir>/intent/<agent>', './packs')
    .option('--domain <name>', 'the domain pack to extend (default: the only shipped one)')
    .option('--tool <name>', 'a catalog tool to grant (repeatable; default: the first read tool of the domain catalog)', collect, [])
    .option('--owner <email>', "the pack's owner (default: you@example.com)");
  withExamples(cmd, [
    'charter packs new --agent contract-summarizer --dir ./my-packs',
    'charter packs new --agent po-reader --dir ./my-packs --tool get_purchase_order --tool get_negotiation',
  ]).action(action((opts: NewOpts) => scaffold(opts)));
}
