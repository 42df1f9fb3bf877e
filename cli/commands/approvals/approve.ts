import type { Command } from 'commander';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { evidenceQueued, print, returnTaskToken, scopedApprover, store, withApprover, type ApproverOpts } from './shared.js';

export function registerApprove(approvals: Command): void {
  const cmd = withApprover(
    approvals
      .command('approve <id>')
      .description(
        'sign an approval token for a request with your own key: you are the name the trusted-keys file gives it, and the packs must let you approve it (tenant, spend limit, role in approvers.yaml)',
      ),
  );
  withExamples(cmd, ['charter approvals approve REQUEST_ID --key .charter/keys/alice.key.pem']).action(
    action(async (id: string, opts: ApproverOpts) => {
      const approver = await scopedApprover(id, opts);
      const request = await store(opts).approve(id, approver);
      print(request, opts.json, await returnTaskToken(request));
      evidenceQueued(opts.json);
    }),
  );
}
