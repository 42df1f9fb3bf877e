import type { Command } from 'commander';
import { loadVerifiedManifest } from '../../../policy-packs/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { searchGiven, withPackSearch, workspaceOf, type SearchOptions } from '../packs/shared.js';

/** `charter manifest verify FILE`: signature, key id and purpose, every digest inside. */
export function registerManifestVerify(manifest: Command): void {
  withPackSearch(
    withJson(
      manifest
        .command('verify')
        .description(
          'verify signature, key id and purpose, and every digest inside a manifest; with --packs, that it is exactly what those packs compile to; exit 1 naming each failing check',
        ),
    ),
  )
    .argument('<file>', 'signed manifest (DSSE envelope)')
    .requiredOption('--trusted-keys <file>', 'trusted-keys file')
    .action(
      action((file: string, opts: SearchOptions & { trustedKeys: string; json?: boolean }) => {
        // Without --packs only the manifest itself is checked.
        const packs = searchGiven(opts) ? { packs: workspaceOf(opts) } : {};
        const v = loadVerifiedManifest(file, opts.trustedKeys, packs);
        const m = v.manifest;
        if (opts.json)
          printJson({
            ok: true,
            file,
            digest: v.digest,
            agent: m.agent.name,
            signedBy: v.signedBy,
            layers: m.layers.map((l) => `${l.name}@${l.version}`),
            policies: Object.keys(m.policies).length,
            tools: m.tools.length,
          });
        else
          printLine(
            `ok: ${file}\n  agent ${m.agent.name}, signed by ${v.signedBy.join(', ')}\n  digest ${v.digest}\n  layers ${m.layers.map((l) => `${l.name}@${l.version}`).join(', ')}`,
          );
        return 0;
      }),
    );
}
