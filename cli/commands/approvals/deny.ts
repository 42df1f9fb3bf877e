import type { Command } from 'commander';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { evidenceQueued, print, returnTaskToken, scopedApprover, store, withApprover, type ApproverOpts } from './shared.js';

export function registerDeny(approvals: Command): void {
  const cmd = withApprover(
    approvals
      .command('deny <id>')
      .description(
        'deny a request, signed with your own key (only an approver who may approve it may deny it); tokens already issued stop counting',
      )
      .requiredOption('--reason <text>', 'why'),
  );
  withExamples(cmd, [`charter approvals deny REQUEST_ID --key .charter/keys/alice.key.pem --reason 'supplier under review'`]).action(
    action(async (id: string, opts: ApproverOpts & { reason: string }) => {
      const approver = await scopedApprover(id, opts);
      const request = await store(opts).deny(id, approver, opts.reason);
      print(request, opts.json, await returnTaskToken(request));
      evidenceQueued(opts.json);
    }),
  );
}
