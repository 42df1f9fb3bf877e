/**
 * The approver's key in the browser. The private key is imported from the file `charter keys
 * generate` wrote (PKCS#8 PEM) or from a JWK, into a non-extractable WebCrypto Ed25519 key: it
 * is used to sign here and is never sent anywhere. Only WebCrypto and jose: this module runs in
 * the page (and in Node, whose WebCrypto is the same API, for the tests).
 * What is signed is checked first against what the page shows (statement.ts).
 */
import { SignJWT } from 'jose';
import { checkEvidence, checkToken, StatementRefused, type Intent } from './statement.js';

/** WebCrypto's key type, as both the DOM and Node's WebCrypto declare it. */
type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  d?: string;
}

export interface BrowserKey {
  /** Hex SHA-256 of the DER public key: the id the trusted-keys file knows the key by. */
  keyId: string;
  privateKey: WebCryptoKey;
}

/** What the server asks the browser to sign (console/browser-signing.ts). */
export type SigningAsk =
  | { kind: 'token'; header: { alg: string; kid: string; typ: string }; claims: Record<string, string | number> }
  | { kind: 'evidence'; message: string };

const ED25519 = { name: 'Ed25519' } as const;

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const toBase64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** Reads a private key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or an Ed25519 JWK with `d`. */
export async function importApproverKey(text: string): Promise<BrowserKey> {
  const trimmed = text.trim();
  let jwk: Jwk;
  if (trimmed.startsWith('{')) {
    jwk = JSON.parse(trimmed) as Jwk;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d)
      throw new Error('the JWK is not an Ed25519 private key (kty OKP, crv Ed25519, d)');
  } else {
    const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(trimmed);
    if (!match) throw new Error('not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----) nor a JWK');
    // Extractable only long enough to read its public half; the key kept for signing is not.
    const readable = await crypto.subtle.importKey('pkcs8', fromBase64(match[1]!.replace(/\s+/g, '')), ED25519, true, ['sign']);
    jwk = (await crypto.subtle.exportKey('jwk', readable)) as Jwk;
  }
  const publicKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, ED25519, true, ['verify']);
  const keyId = hex(await crypto.subtle.digest('SHA-256', await crypto.subtle.exportKey('spki', publicKey)));
  const privateKey = await crypto.subtle.importKey('jwk', jwk, ED25519, false, ['sign']);
  return { keyId, privateKey };
}

/**
 * The signer of one act: each statement the server asks for is read in full and checked against
 * `intent` (statement.ts: the request, decision, reason, switch, signer and key the page shows)
 * and signed only then; anything else is refused before the key is used. The approval or denial
 * token it signs is remembered, so the act's evidence must carry exactly that token.
 */
export function actSigner(key: BrowserKey, intent: Intent, now: () => number = Date.now): (ask: SigningAsk) => Promise<string> {
  let token: { jwt: string; jti: string } | null = null;
  return async (ask) => {
    if (ask.kind === 'token') {
      if (token) throw new StatementRefused('a second token for one act');
      const { jti } = checkToken(ask.header, ask.claims, intent, key.keyId, now());
      const jwt = await new SignJWT(ask.claims).setProtectedHeader(ask.header).sign(key.privateKey);
      token = { jwt, jti };
      return jwt;
    }
    const message = fromBase64(ask.message);
    await checkEvidence(message, intent, key.keyId, token, now());
    return toBase64(await crypto.subtle.sign(ED25519, key.privateKey, message));
  };
}
