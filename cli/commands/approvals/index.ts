import type { Command } from 'commander';
import { registerApprove } from './approve.js';
import { registerDeny } from './deny.js';
import { registerExpire } from './expire.js';
import { registerList } from './list.js';
import { registerRequest } from './request.js';
import { registerShow } from './show.js';

/** `charter approvals <verb>`: one file per verb in this folder. */
export function registerApprovals(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('approval requests and signed, single-use approval tokens for write-high and critical tool calls');
  for (const register of [registerRequest, registerApprove, registerDeny, registerShow, registerList, registerExpire]) register(approvals);
}
