import { join } from 'node:path';
import type { Command } from 'commander';
import { homeAuditStore, openHomeAuditLog } from '../../../audit/index.js';
import { charterHome, InputError } from '../../../common/index.js';
import { AccessLog, localConsoleIdentity, startConsole } from '../../../console/index.js';
import { LocalKeySigner, loadPrivateKey } from '../../../signing/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { auditorKeys, positiveInt } from '../audit/shared.js';

interface ServeOpts {
  port: string;
  trustedKeys?: string;
  jwks?: string;
  issuer?: string;
  audience?: string;
  auditKey?: string;
  auditOrigin: string;
  json?: boolean;
}

export const DEFAULT_CONSOLE_PORT = 8780;

/** `charter console [serve]`: the web console on loopback over the home, until Ctrl-C. */
export function registerServe(group: Command): void {
  withJson(
    group
      .command('serve', { isDefault: true })
      .description('serve the console on 127.0.0.1 over the Charter home (the default verb: `charter console` is `charter console serve`)')
      .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', String(DEFAULT_CONSOLE_PORT))
      .option(
        '--trusted-keys <file>',
        "the audit-checkpoint key(s) the trail and its proofs are checked with, kept outside the home (default: CHARTER_AUDIT_TRUSTED_KEYS; else the home's own keys, shown as UNTRUSTED)",
      )
      .option(
        '--jwks <url|file>',
        "the identity provider's JWKS (default: the home's local console key, as `charter console token` mints with)",
      )
      .option('--issuer <iss>', 'expected token issuer (with --jwks)')
      .option('--audience <aud>', 'expected token audience (with --jwks)')
      .option(
        '--audit-key <file>',
        'Ed25519 key that signs the checkpoints of the console access records (default $CHARTER_HOME/keys/audit.key.pem)',
      )
      .option('--audit-origin <origin>', 'audit checkpoint origin', 'charter.local/audit')
      .addHelpText(
        'after',
        '\nExamples:\n  $ charter console token --as ada --role auditor --tenant acme\n  $ charter console --trusted-keys ~/pinned/trusted-keys.json\n  $ charter console --port 0 --json',
      ),
  ).action(
    action(async (opts: ServeOpts) => {
      const home = charterHome();
      const port = opts.port === '0' ? 0 : positiveInt(opts.port, '--port')!;
      if (opts.jwks && !(opts.issuer && opts.audience))
        throw new InputError('--jwks needs --issuer and --audience (what tokens of that provider must say)', { field: '--jwks' });
      const identity = opts.jwks ? { jwks: opts.jwks, issuer: opts.issuer!, audience: opts.audience! } : await localConsoleIdentity(home);
      const signer = new LocalKeySigner(loadPrivateKey(opts.auditKey ?? join(home, 'keys', 'audit.key.pem')));
      const access = new AccessLog(
        () => openHomeAuditLog({ home, signer, origin: opts.auditOrigin }),
        (err) => process.stderr.write(`charter: console: closing the audit log failed: ${(err as Error).message}\n`),
      );
      const running = await startConsole({
        context: { home, audit: homeAuditStore(home), trust: auditorKeys(opts.trustedKeys), access },
        identity,
        port,
      });
      const stopped = new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      if (opts.json) printJson({ ok: true, url: running.url });
      else {
        printLine(`console listening on ${running.url} (loopback only); Ctrl-C stops it`);
        if (!opts.jwks) printLine(`sign in with a token from: charter console token --as NAME --role auditor [--tenant T]`);
      }
      await stopped;
      await running.close();
    }),
  );
}
