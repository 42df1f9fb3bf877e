import type { Command } from 'commander';
import { charterHome, InputError } from '../../../common/index.js';
import { CONSOLE_ROLES, CONSOLE_TOKEN_HOURS, LOCAL_CONSOLE_IDP, mintConsoleToken } from '../../../console/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { knownId, knownTenants } from '../../../gateway/index.js';

interface TokenOpts {
  as: string;
  role: string;
  tenant?: string;
  hours: string;
  json?: boolean;
}

export function registerToken(group: Command): void {
  withJson(
    group
      .command('token')
      .description(`mint a console sign-in token from the home's local key (${LOCAL_CONSOLE_IDP.issuer}); paste it on the sign-in screen`)
      .requiredOption('--as <name>', 'who signs in (the name every page view and action is recorded under)')
      .requiredOption('--role <role>', CONSOLE_ROLES.join(' | '))
      .option('--tenant <tenant>', 'the one tenant this token may see (one of tenants.yaml); default every tenant')
      .option('--hours <n>', 'how long the token is valid', String(CONSOLE_TOKEN_HOURS))
      .addHelpText(
        'after',
        '\nExamples:\n  $ charter console token --as ada --role auditor --tenant acme\n  $ charter console token --as sam --role auditor --hours 1 --json',
      ),
  ).action(
    action(async (opts: TokenOpts) => {
      const home = charterHome();
      const hours = Number(opts.hours);
      if (!(hours > 0 && hours <= 24 * 30))
        throw new InputError(`--hours must be a number of hours up to 720, got '${opts.hours}'`, { field: '--hours' });
      const tenant = opts.tenant === undefined ? undefined : knownId('tenant', opts.tenant, knownTenants(home), '--tenant');
      const token = await mintConsoleToken(home, { name: opts.as, role: opts.role, tenant, hours });
      if (opts.json) printJson({ ok: true, token, name: opts.as, role: opts.role, tenant: tenant ?? '*', hours });
      else printLine(token);
    }),
  );
}
