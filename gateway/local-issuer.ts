import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { writeFileAtomic } from '../common/index.js';

/** Where a local issuer keeps its key and publishes its JWKS, and what its tokens say they are. */
export interface LocalIssuerFiles {
  keyFile: string;
  jwksFile: string;
  issuer: string;
  audience: string;
}

/** Creates the issuer's key once; concurrent first runs agree on one key (link fails if it exists). */
async function ensureKeyFile(file: string): Promise<void> {
  if (existsSync(file)) return;
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, await exportPKCS8(privateKey), { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * A token issuer for local use: an Ed25519 key in the Charter home (created on first use,
 * mode 0600) whose public half is a JWKS file beside it, which `IdentityVerifier` reads like
 * any identity provider's JWKS. In production an OIDC provider plays this part.
 */
export class LocalTokenIssuer {
  private constructor(
    private readonly key: KeyObject,
    private readonly kid: string,
    readonly files: LocalIssuerFiles,
  ) {}

  static async open(files: LocalIssuerFiles): Promise<LocalTokenIssuer> {
    await ensureKeyFile(files.keyFile);
    const key = createPrivateKey(readFileSync(files.keyFile));
    const jwk = await exportJWK(createPublicKey(key));
    const kid = await calculateJwkThumbprint(jwk);
    const jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] }, null, 2) + '\n';
    if (!existsSync(files.jwksFile) || readFileSync(files.jwksFile, 'utf8') !== jwks) writeFileAtomic(files.jwksFile, jwks);
    return new LocalTokenIssuer(key, kid, files);
  }

  /** A token for `subject` with `claims`, valid `lifetimeSeconds` from `nowMs`. */
  mint(subject: string, claims: JWTPayload, lifetimeSeconds: number, nowMs = Date.now()): Promise<string> {
    const now = Math.floor(nowMs / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid })
      .setSubject(subject)
      .setIssuer(this.files.issuer)
      .setAudience(this.files.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.key);
  }
}
