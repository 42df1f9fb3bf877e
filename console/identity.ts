import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../common/index.js';
import { IdentityVerifier, LocalTokenIssuer, NORMALISED_ID, normaliseId, type IdentityConfig } from '../gateway/index.js';

/** Who the console serves: each role opens its own pages (console/README.md). */
export const CONSOLE_ROLES = ['auditor', 'approver', 'security', 'ml'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** Tenant scope claim: one tenant id, or `*` for every tenant. */
export const ALL_TENANTS = '*';

/** A signed-in console user, from the verified token only (never from the request's parameters). */
export interface Viewer {
  name: string;
  role: ConsoleRole;
  /** The one tenant this viewer may see, or undefined for every tenant. */
  tenant: string | undefined;
}

/** The claims a console token carries beside sub, exp, iss and aud. */
const ConsoleClaims = z.object({
  sub: z.string().min(1, 'sub claim is empty'),
  role: z.enum(CONSOLE_ROLES),
  tenant: z.union([z.literal(ALL_TENANTS), z.string().regex(NORMALISED_ID, 'tenant claim must be a normalised tenant id or *')]),
});

/** The local identity provider of a home: key, JWKS, issuer and audience (`charter console token` mints with it). */
export const LOCAL_CONSOLE_IDP = {
  keyFile: (home: string): string => join(home, 'keys', 'console-idp.key.pem'),
  jwksFile: (home: string): string => join(home, 'keys', 'console-jwks.json'),
  issuer: 'charter-console-local',
  audience: 'charter-console',
};

const localIssuer = (home: string): Promise<LocalTokenIssuer> =>
  LocalTokenIssuer.open({ ...LOCAL_CONSOLE_IDP, keyFile: LOCAL_CONSOLE_IDP.keyFile(home), jwksFile: LOCAL_CONSOLE_IDP.jwksFile(home) });

/**
 * The identity configuration of the home's local provider (what `charter console` verifies with
 * unless told another); its key and JWKS are created on first use.
 */
export async function localConsoleIdentity(home: string): Promise<IdentityConfig> {
  await localIssuer(home);
  return { jwks: LOCAL_CONSOLE_IDP.jwksFile(home), issuer: LOCAL_CONSOLE_IDP.issuer, audience: LOCAL_CONSOLE_IDP.audience };
}

/** Default life of a minted console token: a working day. */
export const CONSOLE_TOKEN_HOURS = 8;

export interface MintOptions {
  name: string;
  role: string;
  /** A tenant id, or undefined for every tenant. */
  tenant?: string | undefined;
  hours?: number;
}

/** Mints a console token from the home's local key (created on first use). Role and tenant are checked as the verifier checks them. */
export async function mintConsoleToken(home: string, opts: MintOptions): Promise<string> {
  const role = opts.role as ConsoleRole;
  if (!CONSOLE_ROLES.includes(role)) throw new InputError(`unknown role '${opts.role}' (${CONSOLE_ROLES.join(', ')})`, { field: '--role' });
  const tenant = opts.tenant === undefined ? ALL_TENANTS : normaliseId(opts.tenant);
  if (tenant !== ALL_TENANTS && !NORMALISED_ID.test(tenant))
    throw new InputError(`'${opts.tenant}' is not a tenant id (lower case letters, digits, -)`, { field: '--tenant' });
  const hours = opts.hours ?? CONSOLE_TOKEN_HOURS;
  return (await localIssuer(home)).mint(opts.name, { role, tenant }, Math.round(hours * 3600));
}

/** Verifies console tokens with the gateway's identity code (signature by the JWKS, issuer, audience, expiry), then reads role and scope. */
export class ConsoleSignIn {
  private constructor(private readonly verifier: IdentityVerifier) {}

  static fromConfig(config: IdentityConfig): ConsoleSignIn {
    return new ConsoleSignIn(IdentityVerifier.fromConfig(config));
  }

  async viewer(token: string): Promise<Viewer> {
    const claims = await this.verifier.verifyClaims(token, ConsoleClaims);
    return { name: claims.sub, role: claims.role, tenant: claims.tenant === ALL_TENANTS ? undefined : claims.tenant };
  }
}
