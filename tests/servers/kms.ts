import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { startJsonServer, type RecordedRequest, type Reply, type RunningJsonServer } from './converse.js';

export interface KmsServer extends RunningJsonServer {
  /** The key ids and aliases the server answers for. */
  keyIds: string[];
  publicKey: KeyObject;
}

/** ECDSA over a precomputed SHA-256 digest, as KMS does for MessageType DIGEST (node:crypto always hashes). */
function signDigest(digest: Buffer, key: KeyObject): Buffer {
  const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  return Buffer.from(p256.sign(digest, d, { prehash: false, format: 'der' }));
}

function kmsError(type: string, message: string): Reply {
  return { status: 400, body: { __type: type, message }, headers: { 'content-type': 'application/x-amz-json-1.1' } };
}

/**
 * A local AWS KMS speaking the JSON 1.1 protocol (X-Amz-Target TrentService.<Operation>) for the
 * operations Charter's KMS signer uses: GetPublicKey and Sign, over one real ECC_NIST_P256 key.
 */
export async function startKmsServer(keyIds: string[] = ['alias/charter-manifest']): Promise<KmsServer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const arn = 'arn:aws:kms:us-east-1:111122223333:key/0b0c0d0e-0000-4000-8000-000000000001';
  const route = (req: RecordedRequest): Reply => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = (req.body ?? {}) as { KeyId?: string; Message?: string; MessageType?: string; SigningAlgorithm?: string };
    if (!body.KeyId || !keyIds.includes(body.KeyId)) return kmsError('NotFoundException', `Key '${body.KeyId ?? ''}' does not exist`);
    const ok = (out: unknown): Reply => ({ status: 200, body: out, headers: { 'content-type': 'application/x-amz-json-1.1' } });
    switch (target) {
      case 'TrentService.GetPublicKey':
        return ok({
          KeyId: arn,
          PublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ['ECDSA_SHA_256'],
        });
      case 'TrentService.Sign': {
        if (body.SigningAlgorithm !== 'ECDSA_SHA_256')
          return kmsError('InvalidKeyUsageException', `unsupported algorithm ${body.SigningAlgorithm ?? ''}`);
        const message = Buffer.from(body.Message ?? '', 'base64');
        // As in AWS: RAW messages are at most 4096 bytes; larger ones are sent as their SHA-256 DIGEST.
        if (message.length > 4096)
          return kmsError(
            'ValidationException',
            "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
          );
        const digestOnly = body.MessageType === 'DIGEST';
        if (!digestOnly && body.MessageType !== undefined && body.MessageType !== 'RAW')
          return kmsError('ValidationException', `unknown MessageType ${body.MessageType}`);
        if (digestOnly && message.length !== 32)
          return kmsError('ValidationException', 'a DIGEST message for ECDSA_SHA_256 must be 32 bytes');
        // KMS returns a DER-encoded ECDSA signature over SHA-256 of the message (or over the given digest).
        const signature = digestOnly ? signDigest(message, privateKey) : sign('sha256', message, privateKey);
        return ok({ KeyId: arn, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' });
      }
      default:
        return kmsError('UnknownOperationException', `unsupported operation ${target}`);
    }
  };
  const server = await startJsonServer(route);
  return { ...server, keyIds, publicKey };
}
