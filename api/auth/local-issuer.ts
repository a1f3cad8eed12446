import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';

/**
 * An issuer whose private key this process holds: the development issuer (key generated into
 * DATA_DIR on first use, never committed) and the issuers tests create in memory. It signs the
 * same kind of token the portal's OIDC issuer would: `sub`, the roles array claim, `aud`, `exp`.
 */
export const DEVELOPMENT_ISSUER = 'urn:payerbox:backend-services:development-issuer';
export const DEVELOPMENT_ISSUER_KEY_FILE = 'auth-dev-issuer.json';
const ALG = 'ES256';

export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** The public key set, for a verifier that trusts this issuer. */
  readonly jwks: { keys: JWK[] };
  sign(
    subject: string,
    roles: string[],
    options?: { expiresInSeconds?: number; claims?: Record<string, unknown> },
  ): Promise<string>;
}

export interface LocalIssuerOptions {
  issuer: string;
  audience: string;
  rolesClaim?: string;
}

/** A fresh key pair in memory (tests). */
export async function createInMemoryIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return issuerFromPrivateJwk(await exportJWK(privateKey), options);
}

/** The development issuer: its key lives in `<dataDir>/auth-dev-issuer.json` (mode 0600), created on first use. */
export async function loadOrCreateDevelopmentIssuer(
  dataDir: string,
  options: Omit<LocalIssuerOptions, 'issuer'>,
): Promise<LocalIssuer> {
  const file = path.join(dataDir, DEVELOPMENT_ISSUER_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    try {
      // 'wx': never replace a key another process (API or dev:token) wrote a moment ago.
      writeFileSync(file, JSON.stringify(await exportJWK(privateKey)) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  return issuerFromPrivateJwk(jwk, { ...options, issuer: DEVELOPMENT_ISSUER });
}

async function issuerFromPrivateJwk(privateJwk: JWK, options: LocalIssuerOptions): Promise<LocalIssuer> {
  const kid = await calculateJwkThumbprint(privateJwk);
  const key = (await importJWK(privateJwk, ALG)) as CryptoKey;
  const { d: _private, ...publicJwk } = privateJwk;
  const rolesClaim = options.rolesClaim ?? 'roles';
  return {
    issuer: options.issuer,
    audience: options.audience,
    jwks: { keys: [{ ...publicJwk, kid, alg: ALG, use: 'sig' }] },
    async sign(subject, roles, { expiresInSeconds = 3600, claims = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...claims, ...nestedClaim(rolesClaim, roles) })
        .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setSubject(subject)
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + expiresInSeconds)
        .setJti(randomUUID())
        .sign(key);
    },
  };
}

/** `realm_access.roles` → `{ realm_access: { roles } }`. */
function nestedClaim(dottedPath: string, value: unknown): Record<string, unknown> {
  return dottedPath
    .split('.')
    .reverse()
    .reduce<unknown>((inner, segment) => ({ [segment]: inner }), value) as Record<string, unknown>;
}
