import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, compiledManifestFile, InputError, writeFileAtomic } from '../../../common/index.js';
import { loadSigner, loadTrustedKeys, type TrustedKeysFile } from '../../../signing/index.js';
import { compileManifest, envelopeText, loadVerifiedManifest, signManifest } from '../../../policy-packs/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { defaultTrusted, withExamples, withPackSearch, workspaceOf, type SearchOptions } from './shared.js';

interface CompileOpts extends SearchOptions {
  agent?: string;
  all?: boolean;
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
  const ws = workspaceOf(opts);
  const agents = opts.all ? ws.ownAgents() : [opts.agent!];
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

export function registerCompile(packs: Command): void {
  const cmd = withPackSearch(
    withJson(packs.command('compile').description("compile an agent's manifest (or every agent's) and sign it as a DSSE envelope")),
  )
    .option('--agent <name>', 'the agent to compile')
    .option('--all', 'compile every agent of the --packs folders (default: every shipped agent)')
    .option('--key <file|kms:id>', 'signing key: PKCS#8 PEM file or kms:<key id> (default: $CHARTER_HOME/keys/manifest-signer.key.pem)')
    .option('--previous <file>', 'the previous signed manifest of this agent: sets baseChanged and previousManifestDigest')
    .option(
      '--trusted-keys <file>',
      'trusted keys: the signing key must be trusted there for manifest; they verify --previous (default: $CHARTER_HOME/keys/trusted-keys.json)',
    )
    .option('--out <file>', 'output file (default: $CHARTER_HOME/manifests/<agent>.manifest.json)')
    .option('--out-dir <dir>', 'output folder for <agent>.manifest.json');
  withExamples(cmd, [
    'charter packs compile --all',
    'charter packs compile --agent kraljic-classifier --previous old.manifest.json',
    'charter packs compile --packs ./my-packs --agent my-agent --out ./my-packs/my-agent.manifest.json',
  ]).action(action((opts: CompileOpts) => compile(opts)));
}
