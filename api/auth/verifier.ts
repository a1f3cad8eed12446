import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { createHash } from 'node:crypto';
import type { Principal } from './principal.js';

/**
 * Bearer token verification (docs/api.md, Identity): signature against the trusted issuer's keys,
 * `iss`, `aud`, `exp`/`nbf`, an asymmetric algorithm; roles from an array claim.
 */
export interface TrustedIssuer {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  rolesClaim: string;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** Why a token was refused; the message is for the caller and never contains the token. */
export class InvalidToken extends Error {
  override name = 'InvalidToken';
}

/** The issuer's key set could not be fetched: the caller is not at fault (503, not 401). */
export class IssuerUnavailable extends Error {
  override name = 'IssuerUnavailable';
}

// Asymmetric only: an HMAC "signature" would be forgeable by anyone who knows a shared secret.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 30;

export function localKeys(jwks: { keys: JWK[] }): JWTVerifyGetKey {
  return createLocalJWKSet(jwks);
}

export function remoteKeys(jwksUrl: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
}

export interface VerifierOptions {
  /** Verified tokens remembered (by their SHA-256); 0 verifies every time. */
  cacheEntries?: number;
  /** How long a verification is remembered at most (never past the token's `exp`). */
  cacheTtlMs?: number;
  now?: () => number;
}

export function createTokenVerifier(trusted: TrustedIssuer[], options: VerifierOptions = {}): TokenVerifier {
  const verify = signatureVerifier(trusted);
  return rememberingVerifications(verify, options);
}

/**
 * A client sends the same token with every request until it expires, and checking its signature
 * (ES256, RS256) was the largest part of a cheap request's CPU (bench:read-path's profile). So a
 * verified token's principal is remembered, keyed by the token's SHA-256 (no token is kept): for
 * at most `cacheTtlMs` (default 60 s, so a key the identity provider withdraws stops being accepted
 * within a minute, beside the remote key set's own 30 s cool-down) and never past its `exp` (jose
 * allows 30 s of clock skew after it; a remembered token gets none). Only successes are kept.
 */
export function rememberingVerifications(verify: TokenVerifier, options: VerifierOptions): TokenVerifier {
  const maxEntries = options.cacheEntries ?? 10_000;
  const ttlMs = options.cacheTtlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const remembered = new Map<string, { principal: Principal; until: number }>();
  if (maxEntries <= 0 || ttlMs <= 0) return verify;
  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = remembered.get(key);
    if (hit) {
      remembered.delete(key);
      if (now() < hit.until) {
        remembered.set(key, hit);
        return hit.principal;
      }
    }
    const principal = await verify(token);
    const exp = decodeJwt(token).exp;
    const until = Math.min(now() + ttlMs, typeof exp === 'number' ? exp * 1000 : 0);
    if (until > now()) {
      // Shared by every request that presents the token: frozen, so none can change another's.
      remembered.set(key, {
        principal: Object.freeze({ ...principal, roles: Object.freeze([...principal.roles]) }) as Principal,
        until,
      });
      if (remembered.size > maxEntries) remembered.delete(remembered.keys().next().value!);
    }
    return principal;
  };
}

function signatureVerifier(trusted: TrustedIssuer[]): TokenVerifier {
  const byIssuer = new Map(trusted.map((t) => [t.issuer, t]));
  return async (token) => {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new InvalidToken('the bearer token is not a JWT');
    }
    const issuer = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
    if (!issuer) throw new InvalidToken('the token was not issued by a trusted issuer');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      if (
        error instanceof joseErrors.JWKSTimeout ||
        (error instanceof Error && /fetch failed|ECONNREFUSED/.test(error.message))
      ) {
        throw new IssuerUnavailable('the identity provider keys could not be fetched');
      }
      throw new InvalidToken(describeJoseError(error));
    }
    const email =
      typeof payload.email === 'string' && payload.email.includes('@') ? payload.email : undefined;
    return { sub: payload.sub!, roles: rolesFrom(payload, issuer.rolesClaim), ...(email ? { email } : {}) };
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `the token's ${error.claim} claim is not acceptable`;
  if (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWSSignatureVerificationFailed
  ) {
    return 'the token signature does not verify with the issuer keys';
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  if (error instanceof joseErrors.JWKSInvalid) return 'the issuer keys could not be read';
  return 'the token is not valid';
}

function rolesFrom(payload: JWTPayload, claimPath: string): string[] {
  let value: unknown = payload;
  for (const segment of claimPath.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  }
  return Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : [];
}
