import { InputError } from '../common/index.js';
import { loadPrivateKey } from './keys.js';
import { KmsSigner, LocalKeySigner, type Signer } from './signer.js';

/**
 * Resolves a signer from a CLI-style reference:
 *   `kms:<key id, alias or ARN>`  an AWS KMS key (endpoint and region from the usual AWS
 *                                 settings, e.g. AWS_ENDPOINT_URL_KMS, AWS_REGION)
 *   `<path>`                      a PKCS#8 PEM private key file
 */
export async function loadSigner(ref: string): Promise<Signer> {
  if (ref.startsWith('kms:')) {
    const keyId = ref.slice(4);
    if (!keyId) throw new InputError('kms: signer reference needs a key id, alias or ARN');
    return KmsSigner.create(keyId);
  }
  return new LocalKeySigner(loadPrivateKey(ref));
}
