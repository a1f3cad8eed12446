import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';

/**
 * Would this environment's token endpoint accept this `client_assertion`? Check by check, per
 * docs/smart-rules.md §3.3 (A3–A8) and SMART client-confidential-asymmetric [SP1], with Aidbox's
 * deviations named where they matter (docs/aidbox-contract.md §4, §10). It never records the `jti`
 * (the assertion stays usable) and never issues a token.
 */

export type AssertionCheckId =
  | 'client'
  | 'format'
  | 'alg'
  | 'kid'
  | 'typ'
  | 'jku'
  | 'iss'
  | 'sub'
  | 'aud'
  | 'exp'
  | 'jti'
  | 'key'
  | 'signature';

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

export interface AssertionCheck {
  id: AssertionCheckId;
  /** Rule id of docs/smart-rules.md. */
  rule: string;
  /** 'skipped' when an earlier failure makes the check meaningless (e.g. no key → no signature check). */
  status: 'passed' | 'failed' | 'skipped';
  expected: string;
  found: string;
  message: string;
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

type Outcome = Omit<AssertionCheck, 'id' | 'rule'>;

function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function passed(expected: string, found: string, message: string): Outcome {
  return { status: 'passed', expected, found, message };
}
function failed(expected: string, found: string, message: string): Outcome {
  return { status: 'failed', expected, found, message };
}
function skipped(expected: string, message: string): Outcome {
  return { status: 'skipped', expected, found: '(not checked)', message };
}

function keyFamily(alg: string): 'RSA' | 'EC' | null {
  if (/^(RS|PS)\d{3}$/.test(alg)) return 'RSA';
  if (/^ES\d{3}$/.test(alg)) return 'EC';
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function registeredKeys(jwks: unknown): Record<string, unknown>[] {
  return isRecord(jwks) && Array.isArray(jwks.keys) ? jwks.keys.filter(isRecord) : [];
}

/** A key the endpoint may use to verify: jose and the SMART reference server skip use≠sig and key_ops without verify (D9). */
function verifies(key: Record<string, unknown>): boolean {
  if (key.use !== undefined && key.use !== 'sig') return false;
  if (Array.isArray(key.key_ops) && !key.key_ops.includes('verify')) return false;
  return true;
}

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
  const add = (id: AssertionCheckId, rule: string, outcome: Outcome) => checks.push({ id, rule, ...outcome });

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
  const allowed = options.allowedAlgorithms.join(' or ');

  // A3 (SP1 req 321): alg from the allow-list.
  const alg = typeof header.alg === 'string' ? header.alg : null;
  const algOk = alg !== null && options.allowedAlgorithms.includes(alg) && keyFamily(alg) !== null;
  if (algOk && alg === 'ES384') {
    add(
      'alg',
      'A3',
      passed(
        allowed,
        show(alg),
        'ES384 is allowed by SMART. Note: the Aidbox documentation lists only RS384 for client assertions; Payerbox lists RS384 and ES384, so RS384 is the safest choice.',
      ),
    );
  } else if (algOk) {
    add('alg', 'A3', passed(allowed, show(alg), `${alg} is an algorithm the token endpoint accepts.`));
  } else {
    add(
      'alg',
      'A3',
      failed(
        allowed,
        show(header.alg),
        `The header alg must be ${allowed} (SMART requires servers to support at least one of RS384/ES384); ${alg === 'none' || /^HS/.test(alg ?? '') ? 'none and HMAC algorithms are never accepted for client assertions' : 'sign with RS384 or ES384'}.`,
      ),
    );
  }

  // A3 (SP1 req 322): kid required.
  const kid = typeof header.kid === 'string' && header.kid !== '' ? header.kid : null;
  if (kid)
    add(
      'kid',
      'A3',
      passed(
        'a non-empty kid naming a key in the registered JWKS',
        show(kid),
        'The header names the signing key.',
      ),
    );
  else
    add(
      'kid',
      'A3',
      failed(
        'a non-empty kid naming a key in the registered JWKS',
        show(header.kid),
        'The header must carry kid, the key ID of the signing key as published in the JWKS.',
      ),
    );

  // A3: typ fixed "JWT" (SP1 header table).
  if (header.typ === 'JWT') add('typ', 'A3', passed("'JWT'", show(header.typ), 'typ is JWT.'));
  else add('typ', 'A3', failed("'JWT'", show(header.typ), "SMART fixes the header typ to 'JWT'."));

  // A3 (SP1 req 325, 338): jku, when present, must equal the registered URL; it is never dereferenced.
  let jkuOk = true;
  if (header.jku === undefined) {
    add(
      'jku',
      'A3',
      passed(
        'absent, or equal to the registered JWKS URL',
        '(absent)',
        'No jku: the registered JWKS is used.',
      ),
    );
  } else if (input.jwksUri !== null && header.jku === input.jwksUri) {
    add('jku', 'A3', passed(show(input.jwksUri), show(header.jku), 'jku equals the registered JWKS URL.'));
  } else {
    jkuOk = false;
    add(
      'jku',
      'A3',
      failed(
        input.jwksUri === null
          ? 'absent (this service registered its keys inline)'
          : `absent, or exactly ${show(input.jwksUri)}`,
        show(header.jku),
        input.jwksUri === null
          ? 'This service registered its keys inline, so there is no URL a jku could match: remove jku from the header.'
          : 'A jku that differs from the registered JWKS URL is refused (string comparison, no normalisation); the endpoint never fetches keys from an unregistered URL. Remove jku or make it identical.',
      ),
    );
  }

  // A4 (SP1; RFC 7523 §3): iss = sub = client_id.
  for (const claim of ['iss', 'sub'] as const) {
    const value = payload[claim];
    if (value === input.clientId)
      add(claim, 'A4', passed(show(input.clientId), show(value), `${claim} is the client_id.`));
    else
      add(
        claim,
        'A4',
        failed(
          show(input.clientId),
          show(value),
          `${claim} must be exactly the client_id issued at registration.`,
        ),
      );
  }

  // A5 (SP1; RFC 7523 §3): aud = the token endpoint URL, compared exactly.
  const aud = payload.aud;
  if (aud === input.tokenUrl) {
    add('aud', 'A5', passed(show(input.tokenUrl), show(aud), "aud is this environment's token URL."));
  } else if (Array.isArray(aud) && aud.includes(input.tokenUrl)) {
    add(
      'aud',
      'A5',
      passed(
        show(input.tokenUrl),
        show(aud),
        'aud contains the token URL. RFC 7519 allows an array, but SMART shows a single string: send the URL alone to be safe.',
      ),
    );
  } else {
    const slashOnly = typeof aud === 'string' && aud.replace(/\/$/, '') === input.tokenUrl.replace(/\/$/, '');
    add(
      'aud',
      'A5',
      failed(
        show(input.tokenUrl),
        show(aud),
        slashOnly
          ? 'aud differs from the token URL only by a trailing slash; the comparison is exact.'
          : "aud must be this environment's token URL exactly (sandbox and production have different token URLs).",
      ),
    );
  }

  // A6 (SP1 req 331): exp required, not past, at most five minutes ahead (with skew).
  const now = Math.floor(input.now.getTime() / 1000);
  const latest = now + options.maxLifetimeSeconds + options.clockSkewSeconds;
  const expectedExp = `a NumericDate after now − ${options.clockSkewSeconds} s and at most ${options.maxLifetimeSeconds} s ahead (+${options.clockSkewSeconds} s skew)`;
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    add(
      'exp',
      'A6',
      failed(
        expectedExp,
        show(exp),
        'exp is required: a number of seconds since 1970 (NumericDate), not a string or milliseconds.',
      ),
    );
  } else {
    const when = `${show(exp)} (${new Date(exp * 1000).toISOString()}, ${exp - now} s from now)`;
    if (exp <= now - options.clockSkewSeconds)
      add(
        'exp',
        'A6',
        failed(
          expectedExp,
          when,
          'The assertion has expired: sign a fresh one just before calling the token endpoint.',
        ),
      );
    else if (exp > latest)
      add(
        'exp',
        'A6',
        failed(
          expectedExp,
          when,
          exp > 1e11
            ? 'exp looks like milliseconds: use seconds since 1970.'
            : 'exp is more than five minutes ahead; SMART limits assertion lifetime to five minutes (Aidbox enforces the same).',
        ),
      );
    else add('exp', 'A6', passed(expectedExp, when, 'exp is within the five-minute window.'));
  }

  // A7 (SP1 req 332): jti required; this checker never records it.
  if (typeof payload.jti === 'string' && payload.jti !== '') {
    add(
      'jti',
      'A7',
      passed(
        'a non-empty unique string',
        show(payload.jti),
        'jti is present. The endpoint refuses a jti it has already seen, so use a new random jti for every assertion; this check did not record it.',
      ),
    );
  } else {
    add(
      'jti',
      'A7',
      failed(
        'a non-empty unique string',
        show(payload.jti),
        'jti is required: a new random value for every assertion (replay protection).',
      ),
    );
  }

  // A8 (SP1 req 338): key resolution: registered set → kid and kty fitting alg → exactly one key.
  const family = alg ? keyFamily(alg) : null;
  let key: Record<string, unknown> | null = null;
  const expectedKey = `exactly one key in the registered JWKS with kid ${show(kid ?? undefined)} and kty ${family ?? '(per alg)'}`;
  if (!jkuOk || kid === null || family === null) {
    add(
      'key',
      'A8',
      skipped(
        expectedKey,
        'Key resolution needs a usable alg, a kid and an acceptable jku; see the failures above.',
      ),
    );
  } else {
    const keys = registeredKeys(input.jwks);
    const matches = keys.filter((k) => k.kid === kid && k.kty === family && verifies(k));
    const available = keys.map((k) => `${show(k.kid)}/${String(k.kty)}`).join(', ') || '(no keys)';
    if (matches.length === 1) {
      key = matches[0]!;
      add(
        'key',
        'A8',
        passed(
          expectedKey,
          `key ${show(kid)} (${family})`,
          "Exactly one registered key matches. Note: Aidbox caches a client's JWKS for up to 5 minutes, so a key published in the last few minutes may not be seen yet.",
        ),
      );
    } else if (matches.length === 0) {
      add(
        'key',
        'A8',
        failed(
          expectedKey,
          `registered keys (kid/kty): ${available}`,
          `No registered ${family} key has kid ${show(kid)}: publish the public key under that kid in the JWKS, or sign with a key that is published.`,
        ),
      );
    } else {
      add(
        'key',
        'A8',
        failed(
          expectedKey,
          `${matches.length} keys match`,
          `${matches.length} registered keys share kid ${show(kid)} and kty ${family}; SMART key resolution fails unless exactly one matches (kids must be unique).`,
        ),
      );
    }
  }
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
