import { join } from 'node:path';
import { charterHome, InputError } from '../../common/index.js';
import { loadPrivateKey, loadTrustedKeys, type KeyPurpose } from '../../signing/index.js';
import { approverKey, type ApproverKey } from '../../gateway/index.js';

/**
 * An approver from a private key: the name is the key's entry in the trusted-keys file (purpose
 * `approval`, or one of `purposes`). `--as`, when given, is only a cross-check and must be that name.
 */
export function approverFromKey(
  keyFile: string,
  opts: { trustedKeys?: string; as?: string; home?: string },
  purposes: KeyPurpose[] = ['approval'],
): ApproverKey {
  const trustedFile = opts.trustedKeys ?? join(opts.home ?? charterHome(), 'keys', 'trusted-keys.json');
  const approver = approverKey(loadPrivateKey(keyFile), loadTrustedKeys(trustedFile), purposes);
  if (opts.as !== undefined && opts.as !== approver.name)
    throw new InputError(`--as '${opts.as}' but the key is '${approver.name}' in ${trustedFile}: the signer is the key's name`, {
      field: '--as',
    });
  return approver;
}
