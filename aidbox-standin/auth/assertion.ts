/**
 * private_key_jwt client assertions at `/auth/token` (docs/aidbox-contract.md §4; docs/smart-rules.md §3.3).
 * Every check names its rule. Any failure is `invalid_client` (A9), with the status of section 4.
 */
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWK } from 'jose';
import type { Resource } from '../store/store.js';
import { TokenError } from './token-error.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Assertion algorithms the stand-in advertises and accepts (section 5: RS384 and ES384). */
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;
/** exp may lie at most this far ahead (A6), plus skew. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

/** Remembers (iss, jti) pairs until their assertion could no longer be accepted (A7). */
export class ReplayCache {
  private seen = new Map<string, number>();

  /** Records the pair; false when it was already seen and still live. */
  remember(issuer: string, jti: string, expiresAtSeconds: number, nowSeconds: number): boolean {
    for (const [key, until] of this.seen) if (until < nowSeconds) this.seen.delete(key);
    const key = JSON.stringify([issuer, jti]);
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAtSeconds);
    return true;
  }
}

export interface AssertionContext {
  tokenUrl: string;
  clockSkewSeconds: number;
  replay: ReplayCache;
  nowSeconds: () => number;
  findClient: (id: string) => Resource | undefined;
  /** The client's keys: inline `jwks` or its `jwks_uri` (refresh = fetch again, A8). */
  clientKeys: (client: Resource, refresh: boolean) => Promise<JWK[]>;
}

const fail = (description: string) => new TokenError(400, 'invalid_client', description);

function keyFitsAlgorithm(key: JWK, alg: string): boolean {
  if (alg === 'RS384') return key.kty === 'RSA';
  if (alg === 'ES384') return key.kty === 'EC' && key.crv === 'P-384';
  return false;
}

/** Candidates filtered by kid and by a kty fitting the alg; exactly one must remain (A8). */
async function resolveKey(
  client: Resource,
  kid: string,
  alg: string,
  context: AssertionContext,
): Promise<JWK> {
  const pick = (keys: JWK[]) =>
    keys.filter((k) => k.kid === kid && keyFitsAlgorithm(k, alg) && (k.use === undefined || k.use === 'sig'));
  let candidates: JWK[];
  try {
    candidates = pick(await context.clientKeys(client, false));
    // Unknown kid: fetch once more, the client may have rotated (A8, docs/smart-rules.md U7).
    if (candidates.length === 0 && typeof client.jwks_uri === 'string')
      candidates = pick(await context.clientKeys(client, true));
  } catch (error) {
    throw fail(`could not get the client's keys: ${(error as Error).message}`);
  }
  if (candidates.length === 0) throw fail(`no key with kid ${JSON.stringify(kid)} fits ${alg}`);
  if (candidates.length > 1) throw fail(`more than one key with kid ${JSON.stringify(kid)}`);
  return candidates[0]!;
}

/**
 * Verifies a client assertion and returns the authenticated Client. `clientIdParam` is the
 * optional `client_id` form parameter, which must then name the same client (RFC 7523 section 3).
 */
export async function verifyClientAssertion(
  assertion: string,
  clientIdParam: string | undefined,
  context: AssertionContext,
): Promise<Resource> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw fail('client_assertion is not a JWT');
  }

  // A3: header.
  if (!(ASSERTION_ALGORITHMS as readonly unknown[]).includes(header.alg)) {
    throw fail(`alg ${JSON.stringify(header.alg)} is not allowed; use ${ASSERTION_ALGORITHMS.join(' or ')}`);
  }
  const alg = header.alg as string;
  if (typeof header.kid !== 'string' || header.kid === '') throw fail('kid header is required');
  if (header.typ !== 'JWT') throw fail('typ header must be JWT');

  // A4: iss = sub = a registered, active client_id.
  if (typeof claims.iss !== 'string' || claims.iss === '' || claims.iss !== claims.sub)
    throw fail('iss and sub must both be the client_id');
  if (clientIdParam !== undefined && clientIdParam !== claims.iss)
    throw fail('client_id does not match the assertion issuer');
  const client = context.findClient(claims.iss);
  if (!client) throw fail('unknown client');
  if (client.active === false) throw fail('client is not active'); // A12
  const grantTypes = Array.isArray(client.grant_types) ? client.grant_types : [];
  if (!grantTypes.includes('client_credentials'))
    throw fail('client_credentials is not among the client grant_types');
  const credentials = (
    client.auth as { client_credentials?: { client_assertion_types?: unknown } } | undefined
  )?.client_credentials;
  const assertionTypes = Array.isArray(credentials?.client_assertion_types)
    ? credentials.client_assertion_types
    : [];
  if (!assertionTypes.includes(JWT_BEARER)) throw fail('client is not set up for private_key_jwt'); // section 1.1

  // A3: a jku must equal the registered URL; it is never dereferenced.
  if (header.jku !== undefined && header.jku !== client.jwks_uri)
    throw fail('jku does not match the registered jwks_uri');

  // A8: key resolution, then the signature and the standard claims.
  const jwk = await resolveKey(client, header.kid, alg, context);
  const now = context.nowSeconds();
  try {
    const key = await importJWK(jwk, alg);
    await jwtVerify(assertion, key, {
      algorithms: [alg],
      typ: 'JWT',
      issuer: client.id,
      subject: client.id,
      audience: context.tokenUrl, // A5: exactly the token endpoint URL
      clockTolerance: context.clockSkewSeconds,
      requiredClaims: ['exp', 'jti'], // A6, A7
      currentDate: new Date(now * 1000),
    });
  } catch (error) {
    if (error instanceof joseErrors.JWTClaimValidationFailed || error instanceof joseErrors.JWTExpired) {
      throw fail(`assertion claim ${error.claim}: ${error.reason}`);
    }
    throw fail('assertion signature does not verify against the client keys');
  }

  // A6: exp at most five minutes ahead (plus skew).
  const exp = claims.exp as number;
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + context.clockSkewSeconds)
    throw fail('exp is more than 5 minutes in the future');

  // A7: single use; remembered until exp + skew, so no replay window is left.
  if (typeof claims.jti !== 'string' || claims.jti === '') throw fail('jti is required');
  if (!context.replay.remember(client.id, claims.jti, exp + context.clockSkewSeconds, now))
    throw fail('jti was already used');
  return client;
}
