import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { writeFileAtomic } from '../common/index.js';
import { AGENT_IDENTITY } from '../agents/index.js';
import { ORCHESTRATOR_PRINCIPAL } from './local-agents.js';

/** Lifetime of an invocation's identity token: long enough for one agent step, short enough to be useless later. */
export const IDENTITY_TOKEN_SECONDS = 300;

/** Creates the home's identity key once; concurrent first runs agree on one key (link fails if it exists). */
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
 * The platform side of agent identity: the orchestrator holds an Ed25519 key in the Charter
 * home and mints, per invocation, a short-lived token whose tenantId and agentId claims the
 * gateway trusts (the agent never asserts them). The public half is the home's JWKS file.
 */
export class AgentIdentityIssuer {
  private constructor(
    private readonly key: KeyObject,
    private readonly kid: string,
  ) {}

  static async open(home: string): Promise<AgentIdentityIssuer> {
    const keyFile = AGENT_IDENTITY.keyFile(home);
    await ensureKeyFile(keyFile);
    const key = createPrivateKey(readFileSync(keyFile));
    const jwk = await exportJWK(createPublicKey(key));
    const kid = await calculateJwkThumbprint(jwk);
    const jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] }, null, 2) + '\n';
    const jwksFile = AGENT_IDENTITY.jwksFile(home);
    if (!existsSync(jwksFile) || readFileSync(jwksFile, 'utf8') !== jwks) writeFileAtomic(jwksFile, jwks);
    return new AgentIdentityIssuer(key, kid);
  }

  /** A token for one invocation of `agentId` for `tenantId`; `nowMs` only moves for tests. */
  mint(tenantId: string, agentId: string, nowMs = Date.now()): Promise<string> {
    const now = Math.floor(nowMs / 1000);
    return new SignJWT({ tenantId, agentId })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid })
      .setSubject(ORCHESTRATOR_PRINCIPAL)
      .setIssuer(AGENT_IDENTITY.issuer)
      .setAudience(AGENT_IDENTITY.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + IDENTITY_TOKEN_SECONDS)
      .sign(this.key);
  }
}
