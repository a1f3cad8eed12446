import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { checkClaims } from './assertion-claims.js';
import { failed, passed, show, type AddCheck, type AssertionCheck } from './assertion-checks.js';
import { checkHeader, keyFamily } from './assertion-header.js';
import { resolveKey } from './assertion-key.js';

/**
 * Would this environment's token endpoint accept this `client_assertion`? Check by check, per
 * docs/smart-rules.md §3.3 (A3–A8) and SMART client-confidential-asymmetric [SP1], with Aidbox's
 * deviations named where they matter (docs/aidbox-contract.md §4, §10). It never records the `jti`
 * (the assertion stays usable) and never issues a token.
 */

/**
 * Whether the target environment holds this client and lets it authenticate: the first thing a token
 * endpoint looks up (docs/smart-rules.md A4, A12). The caller knows it from the service's state.
 */
export interface EnvironmentClient {
  exists: boolean;
  active: boolean;
  /** Why not, in a sentence a developer understands (e.g. "production has no client until approval"). */
  reason: string;
}

export interface AssertionCheckResult {
  /** True when every check passed. */
  accepted: boolean;
  checks: AssertionCheck[];
  /** What the endpoint answers on failure, and what this checker does not do. */
  note: string;
}

export interface AssertionCheckInput {
  clientId: string;
  /** The registered, already-fetched key set ({ keys: [...] }). */
  jwks: unknown;
  /** The registered JWKS URL (canonical form), or null for an inline JWKS. */
  jwksUri: string | null;
  /** The environment's token endpoint, e.g. https://sandbox.example.org/auth/token. */
  tokenUrl: string;
  clientAssertion: string;
  now: Date;
  /** The environment's client; without it the check assumes one exists (library use). */
  environmentClient?: EnvironmentClient;
  options?: AssertionCheckOptions;
}

export interface AssertionCheckOptions {
  allowedAlgorithms?: readonly string[];
  /** A6: 30–60 s; Inferno signs exp = now + 300 exactly, so some slack is needed. */
  clockSkewSeconds?: number;
  /** A6 / SP1: exp at most five minutes ahead. */
  maxLifetimeSeconds?: number;
}

const DEFAULTS = {
  allowedAlgorithms: ['RS384', 'ES384'],
  clockSkewSeconds: 60,
  maxLifetimeSeconds: 300,
} as const;

const RESULT_NOTE =
  'SMART answers any authentication failure with 401 invalid_client; Aidbox answers 400 invalid_client ' +
  'instead. This check neither records the jti nor issues a token: the assertion can still be sent once before it expires.';

interface Decoded {
  header: ProtectedHeaderParameters;
  payload: JWTPayload;
}

function decode(clientAssertion: string): Decoded | string {
  const parts = clientAssertion.trim().split('.');
  if (parts.length === 5)
    return 'it has five parts: this is an encrypted JWT (JWE); the client assertion is a signed JWT (JWS) with three parts';
  if (parts.length !== 3)
    return `it has ${parts.length} dot-separated part${parts.length === 1 ? '' : 's'}; a compact JWS has three`;
  try {
    return {
      header: decodeProtectedHeader(clientAssertion.trim()),
      payload: decodeJwt(clientAssertion.trim()),
    };
  } catch (error) {
    return `it does not decode (${error instanceof Error ? error.message : 'invalid'})`;
  }
}

/** The pure part: header, claims and key resolution. Returns the resolved key for the signature check. */
export function checkAssertionCore(input: AssertionCheckInput): {
  checks: AssertionCheck[];
  key: Record<string, unknown> | null;
  alg: string | null;
} {
  const options = { ...DEFAULTS, ...input.options };
  const checks: AssertionCheck[] = [];
  const add: AddCheck = (id, rule, outcome) => checks.push({ id, rule, ...outcome });

  // A4/A12: the token endpoint looks the client up first; without an active one it answers
  // invalid_client whatever the assertion says.
  const env = input.environmentClient;
  if (env) {
    const expected = `an active client ${show(input.clientId)} in this environment`;
    if (env.exists && env.active)
      add(
        'client',
        'A12',
        passed(expected, 'present and active', 'This environment has the client, active.'),
      );
    else
      add(
        'client',
        'A12',
        failed(
          expected,
          env.exists ? 'present, not active' : 'no client',
          `${env.reason} The token endpoint answers 400 invalid_client to any assertion until then.`,
        ),
      );
  }

  const decoded = decode(input.clientAssertion);
  if (typeof decoded === 'string') {
    add(
      'format',
      'A2',
      failed(
        'a signed JWT: header.payload.signature, each part base64url',
        'something else',
        `The client_assertion is not a signed JWT: ${decoded}.`,
      ),
    );
    return { checks, key: null, alg: null };
  }
  add(
    'format',
    'A2',
    passed(
      'a signed JWT',
      'a signed JWT',
      'The client_assertion is a compact JWS whose header and payload decode as JSON.',
    ),
  );
  const { header, payload } = decoded;
  const { alg, algOk, kid, jkuOk } = checkHeader(header, input.jwksUri, options.allowedAlgorithms, add);
  checkClaims(payload, input, options, add);
  const family = alg ? keyFamily(alg) : null;
  const key = resolveKey({ jwks: input.jwks, kid, family, jkuOk }, add);
  return { checks, key, alg: algOk ? alg : null };
}

/** The whole check, signature included. Activity-free: the API calls it directly. */
export async function checkAssertion(input: AssertionCheckInput): Promise<AssertionCheckResult> {
  const { checks, key, alg } = checkAssertionCore(input);
  const expected = 'a signature that verifies with the resolved key';
  if (checks.find((c) => c.id === 'format')?.status === 'failed') {
    // Nothing after an undecodable assertion means anything.
    return { accepted: false, checks, note: RESULT_NOTE };
  }
  if (!key || !alg) {
    checks.push({
      id: 'signature',
      rule: 'A8',
      status: 'skipped',
      expected,
      found: '(not checked)',
      message: 'The signature can only be checked once exactly one registered key is resolved.',
    });
  } else {
    try {
      const publicKey = await importJWK(publicMembers(key) as JWK, alg);
      await compactVerify(input.clientAssertion.trim(), publicKey, { algorithms: [alg] });
      checks.push({
        id: 'signature',
        rule: 'A8',
        status: 'passed',
        expected,
        found: `valid ${alg} signature`,
        message: `The ${alg} signature verifies with key ${show(key.kid)}.`,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'verification failed';
      checks.push({
        id: 'signature',
        rule: 'A8',
        status: 'failed',
        expected,
        found: `does not verify (${reason})`,
        message: `The signature does not verify with key ${show(key.kid)}: the assertion was signed with another private key, or altered after signing.`,
      });
    }
  }
  return { accepted: checks.every((c) => c.status === 'passed'), checks, note: RESULT_NOTE };
}

/** Only the public members reach importJWK, even if the registered set (wrongly) carries private ones. */
function publicMembers(key: Record<string, unknown>): Record<string, unknown> {
  return key.kty === 'RSA'
    ? { kty: 'RSA', n: key.n, e: key.e }
    : { kty: key.kty, crv: key.crv, x: key.x, y: key.y };
}
