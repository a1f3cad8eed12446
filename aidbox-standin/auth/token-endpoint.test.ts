/**
 * Table-driven tests of `POST /auth/token`: every rule of docs/smart-rules.md §3.3 with a passing and a
 * failing vector, keys and assertions generated here with jose, the client's JWKS served by a
 * 127.0.0.1 server reached as `localhost` through `localhostOnlyResolver`. Statuses and bodies per
 * docs/aidbox-contract.md §4.
 */
import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localhostOnlyResolver } from '../../platform/network.js';
import { startStandin, type Standin } from '../server.js';
import { startKeyServer, type TestKeyServer } from '../../test-support/key-server.js';
import { basic, call, tokenRequest } from '../../test-support/standin-http.js';
import { JWT_BEARER } from './assertion.js';

const ROOT = basic('root', 'root-secret-for-tests');

let standin: Standin;
let jwksHost: TestKeyServer;
let rsaKey: CryptoKey;
let ecKey: CryptoKey;
let strangerKey: CryptoKey;
let rs256Key: CryptoKey;
let tokenUrl: string;

interface AssertionOptions {
  alg?: string;
  key?: CryptoKey | Uint8Array;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
}

async function assertion(clientId: string, options: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = options.alg ?? 'RS384';
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: tokenUrl,
    exp: now + 240,
    jti: randomUUID(),
    ...options.claims,
  };
  const header: Record<string, unknown> = {
    alg,
    kid: alg === 'ES384' ? 'ec-1' : 'rsa-1',
    typ: 'JWT',
    ...options.header,
  };
  for (const name of options.omit ?? []) {
    delete claims[name];
    delete header[name];
  }
  return new SignJWT(claims)
    .setProtectedHeader(header as { alg: string })
    .sign(options.key ?? (alg === 'ES384' ? ecKey : rsaKey));
}

const jwtForm = (clientAssertion: string, extra: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  scope: 'system/Patient.rs',
  client_assertion_type: JWT_BEARER,
  client_assertion: clientAssertion,
  ...extra,
});

const jwksClient = (id: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Client',
  active: true,
  type: 'smart-app',
  grant_types: ['client_credentials'],
  jwks_uri: jwksHost.jwksUri,
  scope: ['system/Patient.rs', 'system/Observation.rs'],
  auth: {
    client_credentials: {
      client_assertion_types: [JWT_BEARER],
      token_format: 'jwt',
      access_token_expiration: 300,
    },
  },
  ...extra,
});

const secretClient = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Client',
  active: true,
  type: 'smart-app',
  grant_types: ['client_credentials'],
  secret: 'correct-horse-battery',
  scope: ['system/*.read'],
  auth: { client_credentials: { token_format: 'jwt', access_token_expiration: 300 } },
  ...extra,
});

beforeAll(async () => {
  const rsa = await generateKeyPair('RS384', { extractable: true });
  const ec = await generateKeyPair('ES384', { extractable: true });
  const stranger = await generateKeyPair('RS384');
  rsaKey = rsa.privateKey;
  ecKey = ec.privateKey;
  strangerKey = stranger.privateKey;
  // Same RSA key material, usable for RS256 signing (WebCrypto binds the hash to the key).
  rs256Key = (await importJWK(await exportJWK(rsa.privateKey), 'RS256')) as CryptoKey;
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS384', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES384', use: 'sig' },
  ];
  jwksHost = await startKeyServer({ keys });
  standin = await startStandin({
    rootClientSecret: 'root-secret-for-tests',
    resolver: localhostOnlyResolver,
    appMode: 'development',
    sampleData: false,
  });
  tokenUrl = `${standin.url}/auth/token`;
  for (const [id, body] of [
    ['bs-jwks', jwksClient('bs-jwks')],
    ['bs-jwks-inactive', jwksClient('bs-jwks-inactive', { active: false })],
    ['bs-inline', { ...jwksClient('bs-inline'), jwks_uri: undefined, jwks: keys }],
    ['bs-secret', secretClient()],
    ['bs-secret-inactive', secretClient({ active: false })],
    ['bs-no-cc', secretClient({ grant_types: ['basic'] })],
    // A plain Aidbox client, like the quickstart's admin-api: no `type: smart-app`, no Client.scope.
    ['admin-api', secretClient({ type: undefined, scope: undefined })],
  ] as const) {
    const response = await call(standin.url, 'PUT', `/fhir/Client/${id}`, { auth: ROOT, body });
    expect(response.status).toBe(201);
  }
});

afterAll(async () => {
  await standin?.stop();
  await jwksHost?.close();
});

interface Vector {
  rule: string;
  name: string;
  request: () => Promise<{ form: Record<string, string>; auth?: string }>;
  expect: { status: number; error?: string };
}

const ok = { status: 200 };
const invalidClient = { status: 400, error: 'invalid_client' };
const jwt = (clientId: string, options?: AssertionOptions, extra?: Record<string, string>) => async () => ({
  form: jwtForm(await assertion(clientId, options), extra),
});

const vectors: Vector[] = [
  // A1: grant_type=client_credentials, form encoded.
  { rule: 'A1', name: 'client_credentials passes', request: jwt('bs-jwks'), expect: ok },
  {
    rule: 'A1',
    name: 'another grant_type fails',
    request: async () => ({
      form: { ...jwtForm(await assertion('bs-jwks')), grant_type: 'authorization_code' },
    }),
    expect: { status: 400, error: 'invalid_request' },
  },
  // A2: client_assertion_type exactly jwt-bearer, client_assertion present.
  {
    rule: 'A2',
    name: 'wrong client_assertion_type fails',
    request: async () => ({
      form: {
        ...jwtForm(await assertion('bs-jwks')),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      },
    }),
    expect: { status: 400, error: 'invalid_request' },
  },
  {
    rule: 'A2',
    name: 'empty client_assertion fails',
    request: async () => ({ form: jwtForm('') }),
    expect: { status: 400, error: 'invalid_request' },
  },
  // A3: alg allow-list, kid, typ, jku.
  { rule: 'A3', name: 'ES384 passes', request: jwt('bs-jwks', { alg: 'ES384' }), expect: ok },
  {
    rule: 'A3',
    name: 'HS256 fails',
    request: jwt('bs-jwks', {
      alg: 'HS256',
      key: new TextEncoder().encode('x'.repeat(32)),
      header: { kid: 'rsa-1' },
    }),
    expect: invalidClient,
  },
  {
    rule: 'A3',
    name: 'RS256 (not advertised) fails',
    request: async () => ({ form: jwtForm(await assertion('bs-jwks', { alg: 'RS256', key: rs256Key })) }),
    expect: invalidClient,
  },
  {
    rule: 'A3',
    name: 'missing kid fails',
    request: jwt('bs-jwks', { omit: ['kid'] }),
    expect: invalidClient,
  },
  {
    rule: 'A3',
    name: 'typ other than JWT fails',
    request: jwt('bs-jwks', { header: { typ: 'at+jwt' } }),
    expect: invalidClient,
  },
  {
    rule: 'A3',
    name: 'jku equal to the registered jwks_uri passes',
    request: async () => ({
      form: jwtForm(await assertion('bs-jwks', { header: { jku: jwksHost.jwksUri } })),
    }),
    expect: ok,
  },
  {
    rule: 'A3',
    name: 'jku mismatch fails',
    request: jwt('bs-jwks', { header: { jku: 'https://attacker.example/jwks.json' } }),
    expect: invalidClient,
  },
  // A4: iss = sub = an active registered client.
  {
    rule: 'A4',
    name: 'sub different from iss fails',
    request: jwt('bs-jwks', { claims: { sub: 'someone-else' } }),
    expect: invalidClient,
  },
  { rule: 'A4', name: 'unknown client fails', request: jwt('bs-nobody'), expect: invalidClient },
  { rule: 'A4', name: 'inactive client fails', request: jwt('bs-jwks-inactive'), expect: invalidClient },
  {
    rule: 'A4',
    name: 'client_id parameter naming another client fails',
    request: jwt('bs-jwks', {}, { client_id: 'bs-secret' }),
    expect: invalidClient,
  },
  // A5: aud = token endpoint URL exactly.
  {
    rule: 'A5',
    name: 'wrong aud fails',
    request: jwt('bs-jwks', { claims: { aud: 'https://elsewhere.example/auth/token' } }),
    expect: invalidClient,
  },
  {
    rule: 'A5',
    name: 'aud of the FHIR base fails',
    request: async () => ({
      form: jwtForm(await assertion('bs-jwks', { claims: { aud: `${standin.url}/fhir` } })),
    }),
    expect: invalidClient,
  },
  // A6: exp required, in the future, at most 5 minutes ahead (+ skew).
  {
    rule: 'A6',
    name: 'exp = now + 300 passes',
    request: async () => ({
      form: jwtForm(await assertion('bs-jwks', { claims: { exp: Math.floor(Date.now() / 1000) + 300 } })),
    }),
    expect: ok,
  },
  {
    rule: 'A6',
    name: 'exp more than 5 minutes ahead fails',
    request: async () => ({
      form: jwtForm(await assertion('bs-jwks', { claims: { exp: Math.floor(Date.now() / 1000) + 600 } })),
    }),
    expect: invalidClient,
  },
  {
    rule: 'A6',
    name: 'expired assertion fails',
    request: async () => ({
      form: jwtForm(await assertion('bs-jwks', { claims: { exp: Math.floor(Date.now() / 1000) - 120 } })),
    }),
    expect: invalidClient,
  },
  {
    rule: 'A6',
    name: 'missing exp fails',
    request: jwt('bs-jwks', { omit: ['exp'] }),
    expect: invalidClient,
  },
  // A7: jti required (replay is tested below).
  {
    rule: 'A7',
    name: 'missing jti fails',
    request: jwt('bs-jwks', { omit: ['jti'] }),
    expect: invalidClient,
  },
  // A8: key resolution by kid + kty.
  { rule: 'A8', name: 'inline jwks passes', request: jwt('bs-inline'), expect: ok },
  {
    rule: 'A8',
    name: 'unknown kid fails',
    request: jwt('bs-jwks', { header: { kid: 'rsa-unknown' } }),
    expect: invalidClient,
  },
  {
    rule: 'A8',
    name: 'kid of a key with another kty fails',
    request: jwt('bs-jwks', { header: { kid: 'ec-1' } }),
    expect: invalidClient,
  },
  {
    rule: 'A8',
    name: 'signed by a key not in the JWKS fails',
    request: async () => ({ form: jwtForm(await assertion('bs-jwks', { key: strangerKey })) }),
    expect: invalidClient,
  },
  // A10: scopes.
  {
    rule: 'A10',
    name: 'a granted subset passes',
    request: async () => ({
      form: { ...jwtForm(await assertion('bs-jwks')), scope: 'system/Observation.rs' },
    }),
    expect: ok,
  },
  {
    rule: 'A10',
    name: 'empty scope fails',
    request: async () => ({ form: { ...jwtForm(await assertion('bs-jwks')), scope: '' } }),
    expect: { status: 400, error: 'invalid_scope' },
  },
  {
    rule: 'A10',
    name: 'scope beyond Client.scope fails',
    request: async () => ({ form: { ...jwtForm(await assertion('bs-jwks')), scope: 'system/Encounter.rs' } }),
    expect: { status: 400, error: 'invalid_scope' },
  },
  {
    rule: 'A10',
    name: 'patient scope fails',
    request: async () => ({ form: { ...jwtForm(await assertion('bs-jwks')), scope: 'patient/Patient.rs' } }),
    expect: { status: 400, error: 'invalid_scope' },
  },
  {
    rule: 'A10',
    name: 'system scope with a query fails',
    request: async () => ({
      form: { ...jwtForm(await assertion('bs-jwks')), scope: 'system/Patient.rs?name=x' },
    }),
    expect: { status: 400, error: 'invalid_scope' },
  },
  // A12 / secret clients (client_secret_basic and client_secret_post).
  {
    rule: 'secret',
    name: 'client_secret_basic passes',
    request: async () => ({
      form: { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      auth: basic('bs-secret', 'correct-horse-battery'),
    }),
    expect: ok,
  },
  {
    rule: 'secret',
    name: 'client_secret_post passes',
    request: async () => ({
      form: {
        grant_type: 'client_credentials',
        scope: 'system/Patient.read',
        client_id: 'bs-secret',
        client_secret: 'correct-horse-battery',
      },
    }),
    expect: ok,
  },
  {
    rule: 'secret',
    name: 'wrong secret fails',
    request: async () => ({
      form: { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      auth: basic('bs-secret', 'wrong'),
    }),
    expect: invalidClient,
  },
  {
    rule: 'secret',
    name: 'the stored hash as secret fails',
    request: async () => ({
      form: { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      auth: basic('bs-secret', String(standin.store.get('Client', 'bs-secret')?.secret)),
    }),
    expect: invalidClient,
  },
  {
    rule: 'A12',
    name: 'inactive secret client fails',
    request: async () => ({
      form: { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      auth: basic('bs-secret-inactive', 'correct-horse-battery'),
    }),
    expect: invalidClient,
  },
  {
    rule: 'A12',
    name: 'client without client_credentials grant fails',
    request: async () => ({
      form: { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      auth: basic('bs-no-cc', 'correct-horse-battery'),
    }),
    expect: invalidClient,
  },
  {
    rule: 'A12',
    name: 'no client authentication fails',
    request: async () => ({ form: { grant_type: 'client_credentials', scope: 'system/Patient.read' } }),
    expect: invalidClient,
  },
];

describe('POST /auth/token (docs/smart-rules.md, token endpoint)', () => {
  it.each(vectors.map((v) => [`${v.rule} ${v.name}`, v] as const))('%s', async (_label, vector) => {
    const { form, auth } = await vector.request();
    const response = await tokenRequest(standin.url, form, auth);
    expect(response.status, JSON.stringify(response.body)).toBe(vector.expect.status);
    if (vector.expect.error) {
      expect(response.body.error).toBe(vector.expect.error);
      expect(typeof response.body.error_description).toBe('string');
    } else {
      expect(response.body.token_type).toBe('Bearer');
    }
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('A7: a replayed assertion (same jti) fails, the first use passes', async () => {
    const once = await assertion('bs-jwks');
    expect((await tokenRequest(standin.url, jwtForm(once))).status).toBe(200);
    const replay = await tokenRequest(standin.url, jwtForm(once));
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(/jti/),
    });
  });

  it('A1: a body that is neither form nor JSON fails with 400', async () => {
    const response = await call(standin.url, 'POST', '/auth/token', {
      body: 'grant_type=client_credentials',
      contentType: 'text/plain',
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  it('accepts a JSON body (Aidbox does, section 4)', async () => {
    const response = await call(standin.url, 'POST', '/auth/token', {
      body: {
        grant_type: 'client_credentials',
        scope: 'system/Patient.read',
        client_id: 'bs-secret',
        client_secret: 'correct-horse-battery',
      },
    });
    expect(response.status).toBe(200);
  });

  it('A11 + section 4: a JWT access token with the documented claims, wildcards expanded, no refresh token', async () => {
    const response = await tokenRequest(
      standin.url,
      { grant_type: 'client_credentials', scope: 'system/*.read' },
      basic('bs-secret', 'correct-horse-battery'),
    );
    expect(response.status).toBe(200);
    expect(response.body.expires_in).toBeLessThanOrEqual(300);
    expect(response.body).not.toHaveProperty('refresh_token');
    expect(response.body.scope.split(' ')).toEqual(
      expect.arrayContaining(['system/Patient.read', 'system/Observation.read']),
    );
    expect(response.body.scope).not.toContain('*');
    const jwks = createRemoteJWKSet(new URL(`${standin.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(response.body.access_token, jwks, {
      issuer: standin.url,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: 'bs-secret', atv: 2, scope: response.body.scope });
    expect(payload.exp! - payload.iat!).toBe(300);
    const session = standin.store.get('Session', String(payload.jti));
    expect(session).toMatchObject({ client: { reference: 'Client/bs-secret' }, type: 'client_credentials' });
    expect(JSON.stringify(session)).not.toContain(response.body.access_token);
  });

  it('re-fetches the JWKS once for an unknown kid (key rotation, A8)', async () => {
    const rotated = await generateKeyPair('RS384', { extractable: true });
    jwksHost.publish({ keys: [{ ...(await exportJWK(rotated.publicKey)), kid: 'rsa-2', alg: 'RS384' }] });
    try {
      const response = await tokenRequest(
        standin.url,
        jwtForm(await assertion('bs-jwks', { key: rotated.privateKey, header: { kid: 'rsa-2' } })),
      );
      expect(response.status).toBe(200);
    } finally {
      jwksHost.restore();
    }
  });
});

describe('scope narrowing and plain clients (issues found by a real client)', () => {
  it('SMART clients get the subset of a wider request that Client.scope covers, named in `scope`', async () => {
    // bs-jwks registered system/Patient.rs and system/Observation.rs.
    const wide = await tokenRequest(standin.url, {
      ...jwtForm(await assertion('bs-jwks')),
      scope: 'system/*.rs',
    });
    expect(wide.status, JSON.stringify(wide.body)).toBe(200);
    expect(wide.body.scope.split(' ').sort()).toEqual(['system/Observation.rs', 'system/Patient.rs']);
    const permissions = await tokenRequest(standin.url, {
      ...jwtForm(await assertion('bs-jwks')),
      scope: 'system/Patient.cruds',
    });
    expect(permissions.body.scope).toBe('system/Patient.rs');
    // Negative control: nothing of the request is covered, so no token.
    const none = await tokenRequest(standin.url, {
      ...jwtForm(await assertion('bs-jwks')),
      scope: 'system/Encounter.rs',
    });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  it('a plain (non-SMART) client gets a token without any scope; a SMART client does not', async () => {
    const plain = await tokenRequest(
      standin.url,
      { grant_type: 'client_credentials' },
      basic('admin-api', 'correct-horse-battery'),
    );
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    expect(plain.body.access_token).toEqual(expect.any(String));
    // Negative control: the SMART scope rules still apply to smart-app clients (A10).
    const smart = await tokenRequest(
      standin.url,
      { grant_type: 'client_credentials' },
      basic('bs-secret', 'correct-horse-battery'),
    );
    expect(smart.status).toBe(400);
    expect(smart.body.error).toBe('invalid_scope');
  });

  it('a client_credentials answer carries no launch-context parameter (need_patient_banner)', async () => {
    const response = await tokenRequest(
      standin.url,
      { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      basic('bs-secret', 'correct-horse-battery'),
    );
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('need_patient_banner');
  });
});
