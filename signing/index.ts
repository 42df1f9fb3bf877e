export { canonicalJson, digestJson, digestOf, sha256Hex } from './canonical.js';
export { DsseEnvelope, pae, parseEnvelope, signEnvelope, verifyEnvelope, type VerifiedEnvelope, type VerifyOptions } from './dsse.js';
export {
  KeyPurpose,
  SignatureAlgorithm,
  TrustedKey,
  TrustedKeysFile,
  addTrustedKeys,
  generateEd25519Key,
  keyIdOf,
  loadPrivateKey,
  loadTrustedKeys,
  publicKeyFromPem,
  trustedKeyFromPublicKey,
  type GeneratedKey,
} from './keys.js';
export { loadSigner } from './load-signer.js';
export { KmsSigner, LocalKeySigner, verifyWithKey, type Signer } from './signer.js';
