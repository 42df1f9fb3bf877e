import type { Command } from 'commander';
import { InputError } from '../../../common/index.js';
import { loadSigner } from '../../../signing/index.js';
import { approveRelease } from '../../../release-gates/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { candidatesOf, selectOptions } from './shared.js';

export function registerApprove(release: Command): void {
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
}
