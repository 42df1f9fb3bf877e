import type { Command } from 'commander';
import { registerEngage } from './engage.js';
import { registerList } from './list.js';
import { registerRelease } from './release.js';

/** `charter killswitch <verb>`: one file per verb in this folder. */
export function registerKillSwitch(program: Command): void {
  const ks = program
    .command('killswitch')
    .description(
      "suspend a tenant or an agent at once: every tool call for it is denied (base.suspended-tenant, base.suspended-agent) from the gateway's next decision",
    );
  for (const register of [registerEngage, registerRelease, registerList]) register(ks);
}
