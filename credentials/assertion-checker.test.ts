import { createSecretKey } from 'node:crypto';
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAssertion } from './assertion-checker.js';
import type { AssertionCheck, AssertionCheckId } from './assertion-checks.js';
import { ecKeyPair, rsaKeyPair, type TestKeyPair } from '../test-support/key-pairs.js';

/** Every check of the assertion checker, passing and failing (docs/smart-rules.md A3–A8). */

const CLIENT_ID = 'bs-acme1';
const JWKS_URI = 'https://acme.example.test/.well-known/jwks.json';
const TOKEN_URL = 'https://sandbox.payerbox.example.test/auth/token';
const NOW = new Date('2026-12-01T12:00:00Z');
const now = Math.floor(NOW.getTime() / 1000);

let rsa: TestKeyPair;
let ec: TestKeyPair;
let other: TestKeyPair;
let jwks: { keys: Record<string, unknown>[] };

beforeAll(() => {
  rsa = rsaKeyPair(2048);
  ec = ecKeyPair('P-384');
  other = rsaKeyPair(2048);
  jwks = {
    keys: [
      { ...rsa.publicJwk, kid: 'rsa1', alg: 'RS384', use: 'sig' },
      { ...ec.publicJwk, kid: 'ec1', alg: 'ES384' },
      { ...other.publicJwk, kid: 'enc1', use: 'enc' },
    ],
  };
});

interface Build {
  header?: Partial<JWTHeaderParameters> & Record<string, unknown>;
  claims?: Record<string, unknown>;
  drop?: string[];
  signWith?: () => TestKeyPair;
}

async function assertion({ header = {}, claims = {}, drop = [], signWith }: Build = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: CLIENT_ID,
    sub: CLIENT_ID,
    aud: TOKEN_URL,
    exp: now + 240,
    jti: 'jti-1',
    ...claims,
  };
  const protectedHeader: Record<string, unknown> = { alg: 'RS384', kid: 'rsa1', typ: 'JWT', ...header };
  for (const name of drop) {
    delete payload[name];
    delete protectedHeader[name];
  }
  const alg = protectedHeader.alg as string;
  const signer = signWith?.() ?? (alg.startsWith('ES') ? ec : rsa);
  const key = alg.startsWith('HS') ? createSecretKey(Buffer.alloc(32, 1)) : signer.privateKey;
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader(protectedHeader as JWTHeaderParameters)
    .sign(key);
}

async function run(clientAssertion: string, overrides: { jwksUri?: string | null; jwks?: unknown } = {}) {
  return checkAssertion({
    clientId: CLIENT_ID,
    jwks: overrides.jwks ?? jwks,
    jwksUri: overrides.jwksUri === undefined ? JWKS_URI : overrides.jwksUri,
    tokenUrl: TOKEN_URL,
    clientAssertion,
    now: NOW,
  });
}

function byId(checks: AssertionCheck[], id: AssertionCheckId): AssertionCheck {
  const check = checks.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check;
}

describe('checkAssertion', () => {
  it('accepts a well-formed RS384 assertion, every check passed', async () => {
    const result = await run(await assertion());
    expect(result.checks.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(result.accepted).toBe(true);
    expect(result.checks.map((c) => c.id)).toEqual([
      'format',
      'alg',
      'kid',
      'typ',
      'jku',
      'iss',
      'sub',
      'aud',
      'exp',
      'jti',
      'key',
      'signature',
    ]);
    expect(result.note).toContain('Aidbox answers 400 invalid_client');
  });

  it('accepts ES384 and says where Aidbox documentation differs', async () => {
    const result = await run(await assertion({ header: { alg: 'ES384', kid: 'ec1' } }));
    expect(result.accepted).toBe(true);
    expect(byId(result.checks, 'alg').message).toContain('Aidbox documentation lists only RS384');
  });

  type Case = [
    string,
    Build | (() => Promise<string>),
    AssertionCheckId,
    'failed' | 'passed' | 'skipped',
    string,
    { jwksUri?: string | null; jwks?: () => unknown }?,
  ];
  const cases: Case[] = [
    ['alg RS256 is not allowed', { header: { alg: 'RS256' } }, 'alg', 'failed', 'RS384 or ES384'],
    [
      'alg HS256 is never allowed',
      { header: { alg: 'HS256' } },
      'alg',
      'failed',
      'HMAC algorithms are never accepted',
    ],
    ['kid missing', { drop: ['kid'] }, 'kid', 'failed', 'must carry kid'],
    [
      'kid missing → key resolution skipped',
      { drop: ['kid'] },
      'key',
      'skipped',
      'needs a usable alg, a kid',
    ],
    ['typ missing', { drop: ['typ'] }, 'typ', 'failed', "typ to 'JWT'"],
    ['typ other than JWT', { header: { typ: 'at+jwt' } }, 'typ', 'failed', "typ to 'JWT'"],
    [
      'jku equal to the registered URL',
      { header: { jku: JWKS_URI } },
      'jku',
      'passed',
      'equals the registered',
    ],
    [
      'jku elsewhere',
      { header: { jku: 'https://evil.example.test/jwks' } },
      'jku',
      'failed',
      'never fetches keys from an unregistered URL',
    ],
    [
      'jku differing only in case is still refused',
      { header: { jku: JWKS_URI.toUpperCase() } },
      'jku',
      'failed',
      'string comparison',
    ],
    [
      'jku with an inline JWKS',
      { header: { jku: JWKS_URI } },
      'jku',
      'failed',
      'registered its keys inline, so there is no URL',
      { jwksUri: null },
    ],
    ['iss wrong', { claims: { iss: 'bs-other' } }, 'iss', 'failed', 'exactly the client_id'],
    ['sub wrong', { claims: { sub: 'someone' } }, 'sub', 'failed', 'exactly the client_id'],
    [
      'aud wrong environment',
      { claims: { aud: 'https://prod.payerbox.example.test/auth/token' } },
      'aud',
      'failed',
      'sandbox and production have different token URLs',
    ],
    [
      'aud with a trailing slash',
      { claims: { aud: `${TOKEN_URL}/` } },
      'aud',
      'failed',
      'only by a trailing slash',
    ],
    [
      'aud as an array containing the token URL',
      { claims: { aud: [TOKEN_URL] } },
      'aud',
      'passed',
      'send the URL alone',
    ],
    ['exp missing', { drop: ['exp'] }, 'exp', 'failed', 'exp is required'],
    ['exp in the past', { claims: { exp: now - 120 } }, 'exp', 'failed', 'has expired'],
    ['exp inside the skew', { claims: { exp: now - 30 } }, 'exp', 'passed', 'within the five-minute window'],
    [
      'exp more than five minutes ahead',
      { claims: { exp: now + 400 } },
      'exp',
      'failed',
      'more than five minutes ahead',
    ],
    ['exp five minutes ahead plus skew', { claims: { exp: now + 330 } }, 'exp', 'passed', 'within'],
    ['exp in milliseconds', { claims: { exp: now * 1000 } }, 'exp', 'failed', 'looks like milliseconds'],
    ['exp as a string', { claims: { exp: String(now + 60) } }, 'exp', 'failed', 'NumericDate'],
    ['jti missing', { drop: ['jti'] }, 'jti', 'failed', 'jti is required'],
    ['unknown kid', { header: { kid: 'nope' } }, 'key', 'failed', "No registered RSA key has kid 'nope'"],
    [
      'kid of a key of the wrong type',
      { header: { kid: 'ec1' } },
      'key',
      'failed',
      "No registered RSA key has kid 'ec1'",
    ],
    [
      'kid of a key with use enc',
      { header: { kid: 'enc1' }, signWith: () => other },
      'key',
      'failed',
      "No registered RSA key has kid 'enc1'",
    ],
    [
      'two registered keys with the same kid',
      {},
      'key',
      'failed',
      'share kid',
      {
        jwks: () => ({
          keys: [
            { ...rsa.publicJwk, kid: 'rsa1' },
            { ...other.publicJwk, kid: 'rsa1' },
          ],
        }),
      },
    ],
    [
      'signed by another key under the registered kid',
      { signWith: () => other },
      'signature',
      'failed',
      'does not verify',
    ],
    [
      'payload altered after signing',
      async () => {
        const [h, , s] = (await assertion()).split('.');
        const forged = Buffer.from(
          JSON.stringify({ iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_URL, exp: now + 200, jti: 'x' }),
        ).toString('base64url');
        return `${h}.${forged}.${s}`;
      },
      'signature',
      'failed',
      'altered after signing',
    ],
    ['not a JWT', async () => 'hello', 'format', 'failed', 'three'],
    ['an encrypted JWT', async () => 'a.b.c.d.e', 'format', 'failed', 'JWE'],
    ['undecodable header', async () => '!!!.e30.sig', 'format', 'failed', 'does not decode'],
  ];

  it.each(cases)('%s', async (_name, build, id, status, text, overrides) => {
    const token = typeof build === 'function' ? await build() : await assertion(build);
    const result = await run(token, { jwksUri: overrides?.jwksUri, jwks: overrides?.jwks?.() });
    const check = byId(result.checks, id);
    expect(check.status, check.message).toBe(status);
    expect(check.message).toContain(text);
    if (status === 'failed') {
      expect(result.accepted).toBe(false);
      expect(check.expected).not.toBe('');
      expect(check.found).not.toBe('');
    }
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('shows expected and found for a failed claim', async () => {
    const result = await run(await assertion({ claims: { iss: 'bs-other' } }));
    expect(byId(result.checks, 'iss')).toMatchObject({
      expected: `'${CLIENT_ID}'`,
      found: "'bs-other'",
      status: 'failed',
    });
  });

  it('is repeatable: the same assertion checks the same way twice (no jti is consumed)', async () => {
    const token = await assertion();
    expect((await run(token)).accepted).toBe(true);
    expect((await run(token)).accepted).toBe(true);
  });

  it('never uses private members of a registered key', async () => {
    const leaky = { keys: [{ ...rsa.privateJwk, kid: 'rsa1' }] };
    expect((await run(await assertion(), { jwks: leaky })).accepted).toBe(true);
  });
});

describe('the environment must hold the client, active (A4, A12), as the token endpoint checks first', () => {
  const withClient = async (environmentClient: { exists: boolean; active: boolean; reason: string }) =>
    checkAssertion({
      clientId: CLIENT_ID,
      jwks,
      jwksUri: JWKS_URI,
      tokenUrl: TOKEN_URL,
      clientAssertion: await assertion(),
      now: NOW,
      environmentClient,
    });

  it('a perfect assertion is not accepted where the environment has no client (a draft in production)', async () => {
    const result = await withClient({ exists: false, active: false, reason: 'Production has no client.' });
    expect(result.accepted).toBe(false);
    expect(byId(result.checks, 'client')).toMatchObject({ status: 'failed', rule: 'A12' });
    expect(byId(result.checks, 'client').message).toContain('invalid_client');
    // The other checks still run, so the developer sees the assertion itself is fine.
    expect(byId(result.checks, 'signature').status).toBe('passed');
  });

  it('an inactive client is refused too (production switched on last)', async () => {
    const result = await withClient({ exists: true, active: false, reason: 'Being set up.' });
    expect(result.accepted).toBe(false);
    expect(byId(result.checks, 'client').found).toBe('present, not active');
  });

  it('negative control: with an active client the same assertion is accepted', async () => {
    const result = await withClient({ exists: true, active: true, reason: '' });
    expect(result.accepted).toBe(true);
    expect(byId(result.checks, 'client').status).toBe('passed');
  });
});
