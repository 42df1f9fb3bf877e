import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { addTrustedKeys, generateEd25519Key, KeyPurpose, loadTrustedKeys } from '../../../signing/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { charterHome, InputError } from '../../../common/index.js';

/** `charter keys generate`: an Ed25519 key pair, its public half added to a trusted-keys file. */
export function registerKeysGenerate(keys: Command): void {
  withJson(
    keys
      .command('generate')
      .description('generate an Ed25519 signing key and add its public half to a trusted-keys file')
      .requiredOption('--name <name>', 'key name, e.g. release-signer')
      .option('--dir <dir>', 'where to write <name>.key.pem and <name>.pub.pem', undefined)
      .option('--trusted-keys <file>', 'trusted-keys file to add the public key to', undefined)
      .option('--purpose <purpose...>', `what the key may sign: ${KeyPurpose.options.join(', ')}`, ['manifest']),
  ).action(
    action((opts: { name: string; dir?: string; trustedKeys?: string; purpose: string[]; json?: boolean }) => {
      const purposes = opts.purpose.map((p) => {
        const parsed = KeyPurpose.safeParse(p);
        if (!parsed.success)
          throw new InputError(`unknown purpose '${p}' (one of ${KeyPurpose.options.join(', ')})`, { field: '--purpose' });
        return parsed.data;
      });
      const dir = opts.dir ?? join(charterHome(), 'keys');
      const trustedFile = opts.trustedKeys ?? join(dir, 'trusted-keys.json');
      // A malformed trusted-keys file is refused before the key pair is written: nothing half-done.
      if (existsSync(trustedFile)) loadTrustedKeys(trustedFile);
      const key = generateEd25519Key(dir, opts.name, purposes);
      addTrustedKeys(trustedFile, [key.trusted]);
      if (opts.json)
        printJson({
          ok: true,
          keyId: key.trusted.keyId,
          privateKeyFile: key.privateKeyFile,
          publicKeyFile: key.publicKeyFile,
          trustedKeysFile: trustedFile,
        });
      else
        printLine(
          `generated ${key.trusted.name} (${key.trusted.keyId.slice(0, 16)}…)\n  private: ${key.privateKeyFile}\n  public:  ${key.publicKeyFile}\n  trusted: ${trustedFile}`,
        );
    }),
  );
}
