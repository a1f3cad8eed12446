/**
 * Conformance, written from the specifications rather than from our code, against the production
 * Aidbox stand-in with clients the product provisioned as a user would (register with a JWKS URL,
 * submit, approve through the HTTP API; commands are signed by the API as in api/lifecycle.test.ts):
 * - SMART Backend Services (SMART App Launch 2.x, "Backend Services", Authorization section):
 *   https://hl7.org/fhir/smart-app-launch/STU2.2/backend-services.html
 * - Bulk Data Access 2.0, export: https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 * Each case is a table row: request → expected status and key fields, with its spec section.
 * Where Aidbox deviates and the stand-in follows Aidbox (400 instead of 401 for invalid_client,
 * docs/smart-rules.md A9), the row accepts both and says so.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createApp } from '../api/app.js';
import type { PresentedService } from '../api/services/present.js';
import { createJwksFetcher } from '../credentials/jwks-fetch.js';
import { localhostOnlyResolver } from '../platform/network.js';
import { createIdentities, jsonRequest, systemApp, validRegistration } from '../test-support/api-harness.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';

const SBS = 'https://hl7.org/fhir/smart-app-launch/STU2.2/backend-services.html';
const BULK = 'https://hl7.org/fhir/uv/bulkdata/STU2/export.html';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type Json = Record<string, unknown> & { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
type Env = NonNullable<PresentedService['environments']['production']>;
interface Provisioned {
  id: string;
  production: Env;
}

let system: TestSystem;
let app: ReturnType<typeof createApp>;
let headers: Record<'dev' | 'admin', Record<string, string>>;
let keyServer: Server;
let jwksUri: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
const KID = 'conformance-1';
let a1: Provisioned; // org-payer-a
let a2: Provisioned; // org-payer-a, another client
let b: Provisioned; // org-payer-b
let draftId: string;

async function api(method: string, path: string, who: 'dev' | 'admin', body?: unknown) {
  const init =
    body === undefined
      ? { method, headers: { ...headers[who], 'Idempotency-Key': randomUUID() } }
      : jsonRequest(method, body, { ...headers[who], 'Idempotency-Key': randomUUID() });
  const response = await app.request(path, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Json };
}

async function until(id: string, predicate: (s: Json) => boolean): Promise<Json> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await api('GET', `/v1/backend-services/${id}`, 'dev');
    if (predicate(body)) return body;
    if (Date.now() > deadline) throw new Error(`${id} stuck: ${JSON.stringify(body).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const RULES = [
  { resource: 'Patient', operations: ['read', 'search'] },
  { resource: 'Observation', operations: ['read', 'search'] },
  { resource: 'Group', operations: ['read', 'search'] },
];

async function register(organizationId: string): Promise<string> {
  const created = await api(
    'POST',
    '/v1/backend-services',
    'dev',
    validRegistration({
      organizationId,
      authMethod: { type: 'jwks_uri', jwksUri },
      scopes: { version: 'v2', rules: RULES },
    }),
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

async function provision(organizationId: string): Promise<Provisioned> {
  const id = await register(organizationId);
  await until(id, (s) => s.credentials.state === 'valid' && s.environments.sandbox !== null);
  expect((await api('POST', `/v1/backend-services/${id}/submit`, 'dev')).status).toBe(200);
  const policies = await api('GET', `/v1/admin/backend-services/${id}/production-policies`, 'admin');
  const approved = await api('POST', `/v1/admin/backend-services/${id}/approve`, 'admin', {
    revision: policies.body.revision,
    policyHash: policies.body.policyHash,
  });
  expect(approved.status).toBe(202);
  const active = await until(id, (s) => s.status === 'active' && s.environments.production !== null);
  return { id, production: active.environments.production as Env };
}

interface AssertionVariant {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
  key?: CryptoKey;
  alg?: string;
}

async function assertion(clientId: string, tokenUrl: string, v: AssertionVariant = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header: Record<string, unknown> = { alg: v.alg ?? 'RS384', kid: KID, typ: 'JWT', ...v.header };
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: tokenUrl,
    exp: now + 240,
    jti: randomUUID(),
    ...v.claims,
  };
  for (const name of v.omit ?? []) {
    delete header[name];
    delete claims[name];
  }
  if (v.alg === 'RS256') {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(privateKey);
  }
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(v.key ?? signingKey);
}

async function tokenCall(form: Record<string, string>, auth?: string) {
  const response = await fetch(a1.production.tokenUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(auth ? { Authorization: auth } : {}),
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

const form = async (client: Provisioned, v: AssertionVariant = {}, extra: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  scope: 'system/Patient.rs system/Observation.rs',
  client_assertion_type: JWT_BEARER,
  client_assertion: await assertion(client.id, client.production.tokenUrl, v),
  ...extra,
});

async function accessToken(client: Provisioned, scope = client.production.scope): Promise<string> {
  const answer = await tokenCall(await form(client, {}, { scope }));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.access_token as string;
}

async function fhir(
  url: string,
  token: string | undefined,
  extra: { method?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(url, {
    method: extra.method ?? 'GET',
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra.headers },
  });
  const text = await response.text();
  let body: Json | string | undefined = text;
  try {
    body = text ? (JSON.parse(text) as Json) : undefined;
  } catch {
    // NDJSON or text
  }
  return { status: response.status, headers: response.headers, body: body as Json, text };
}

const ASYNC = { Prefer: 'respond-async', Accept: 'application/fhir+json' };

/** Kick-off, then poll to the manifest; returns the status URL and the manifest. */
async function exportToManifest(client: Provisioned, token: string, query: string) {
  const kickOff = await fhir(`${client.production.fhirBaseUrl}/Patient/$export?${query}`, token, {
    headers: ASYNC,
  });
  expect(kickOff.status, JSON.stringify(kickOff.body)).toBe(202);
  const statusUrl = kickOff.headers.get('content-location')!;
  for (let i = 0; i < 10; i += 1) {
    const polled = await fhir(statusUrl, token);
    if (polled.status === 200) return { statusUrl, manifest: polled.body };
    expect(polled.status).toBe(202);
  }
  throw new Error('the export never completed');
}

beforeAll(async () => {
  system = await startTestSystem();
  const pair = await generateKeyPair('RS384', { extractable: true });
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS384')).privateKey;
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS384', use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(pair.privateKey)), kid: KID, alg: 'RS384', use: 'sig' };
  keyServer = createServer((request, response) => {
    // /refused.json publishes the same key with its private half: a set the registry refuses (D5).
    const keys =
      request.url === '/jwks.json' ? [publicJwk] : request.url === '/refused.json' ? [privateJwk] : null;
    if (!keys) return void response.writeHead(404).end();
    response
      .writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' })
      .end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://localhost:${(keyServer.address() as AddressInfo).port}/jwks.json`;
  const ids = await createIdentities();
  app = systemApp(system, ids, {
    deps: { jwksFetcher: createJwksFetcher({ mode: 'development', resolver: localhostOnlyResolver }) },
  });
  headers = { dev: await ids.bearer('dana', ['developer']), admin: await ids.bearer('abe', ['admin']) };
  [a1, a2, b, draftId] = await Promise.all([
    provision('org-payer-a'),
    provision('org-payer-a'),
    provision('org-payer-b'),
    register('org-payer-a'),
  ]);
});

afterAll(async () => {
  await new Promise<void>((resolve) => (keyServer ? keyServer.close(() => resolve()) : resolve()));
  await system?.stop();
});

interface TokenRow {
  section: string;
  name: string;
  request: () => Promise<Record<string, string>>;
  status: number[];
  error?: string[];
}

// SMART: authentication failures are 401 invalid_client; Aidbox (and the stand-in) answer 400 (A9).
const CLIENT_FAILURE = { status: [400, 401], error: ['invalid_client'] };

describe('SMART Backend Services: token endpoint', () => {
  const rows: TokenRow[] = [
    {
      section: `${SBS}#obtain-access-token`,
      name: 'a valid assertion gets a token',
      request: () => form(a1),
      status: [200],
    },
    {
      section: `${SBS}#obtain-access-token`,
      name: 'grant_type other than client_credentials',
      request: () => form(a1, {}, { grant_type: 'password' }),
      // RFC 6749 §5.2 names unsupported_grant_type; the stand-in answers invalid_request (README).
      status: [400],
      error: ['unsupported_grant_type', 'invalid_request'],
    },
    {
      section: `${SBS}#obtain-access-token`,
      name: 'client_assertion_type other than jwt-bearer',
      request: () => form(a1, {}, { client_assertion_type: 'urn:x:other' }),
      status: [400, 401],
      error: ['invalid_request', 'invalid_client'],
    },
    {
      section: `${SBS}#request-1`,
      name: 'header alg RS256 (not RS384/ES384)',
      request: () => form(a1, { alg: 'RS256' }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'no kid in the header',
      request: () => form(a1, { omit: ['kid'] }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'typ is not JWT',
      request: () => form(a1, { header: { typ: 'at+jwt' } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'jku not the registered JWKS URL',
      request: () => form(a1, { header: { jku: 'https://attacker.example/jwks.json' } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'iss is not the client_id',
      request: () => form(a1, { claims: { iss: 'someone-else' } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'sub is not the client_id',
      request: () => form(a1, { claims: { sub: 'someone-else' } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'aud is not the token URL',
      request: () => form(a1, { claims: { aud: 'https://elsewhere.example/token' } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'exp more than five minutes ahead',
      request: () => form(a1, { claims: { exp: Math.floor(Date.now() / 1000) + 3600 } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'exp in the past',
      request: () => form(a1, { claims: { exp: Math.floor(Date.now() / 1000) - 600 } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#request-1`,
      name: 'no jti',
      request: () => form(a1, { omit: ['jti'] }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#signature-verification`,
      name: 'kid not in the registered JWKS',
      request: () => form(a1, { header: { kid: 'unknown-kid' } }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#signature-verification`,
      name: 'signed with a key the client did not register',
      request: () => form(a1, { key: strangerKey }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#signature-verification`,
      name: 'a client this environment does not have (a draft in production)',
      request: async () => ({
        ...(await form(a1)),
        client_assertion: await assertion(draftId, a1.production.tokenUrl),
      }),
      ...CLIENT_FAILURE,
    },
    {
      section: `${SBS}#scopes`,
      name: 'empty scope',
      request: () => form(a1, {}, { scope: '' }),
      status: [400],
      error: ['invalid_scope'],
    },
    {
      section: `${SBS}#scopes`,
      name: 'a patient/ scope',
      request: () => form(a1, {}, { scope: 'patient/Patient.rs' }),
      status: [400],
      error: ['invalid_scope'],
    },
    {
      section: `${SBS}#scopes`,
      name: 'a system scope the client never registered, alone',
      request: () => form(a1, {}, { scope: 'system/Encounter.rs' }),
      status: [400],
      error: ['invalid_scope'],
    },
  ];

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const answer = await tokenCall(await row.request());
    expect(row.status, `${row.section}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
    if (row.error) expect(row.error).toContain(answer.body.error);
    expect(answer.headers.get('cache-control')).toContain('no-store');
  });

  it(`the answer: bearer, expires_in ≤ 300, scope, no refresh token, no launch context (${SBS}#response-1)`, async () => {
    const answer = await tokenCall(await form(a1));
    expect(answer.status).toBe(200);
    expect(String(answer.body.token_type).toLowerCase()).toBe('bearer');
    expect(answer.body.expires_in).toBeLessThanOrEqual(300);
    expect(answer.body.scope).toEqual(expect.any(String));
    expect(answer.body).not.toHaveProperty('refresh_token');
    expect(answer.body).not.toHaveProperty('need_patient_banner');
  });

  it(`a replayed jti is refused (${SBS}#request-1)`, async () => {
    const once = await form(a1);
    expect((await tokenCall(once)).status).toBe(200);
    const replay = await tokenCall(once);
    expect([400, 401]).toContain(replay.status);
    expect(replay.body.error).toBe('invalid_client');
  });

  it(`system/*.rs is narrowed to the registered types, named in scope (${SBS}#scopes)`, async () => {
    const answer = await tokenCall(await form(a1, {}, { scope: 'system/*.rs' }));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(String(answer.body.scope).split(' ').sort()).toEqual([
      'system/Group.rs',
      'system/Observation.rs',
      'system/Patient.rs',
    ]);
    // The portal says what to request: exactly the registered scopes.
    expect(a1.production.scope.split(' ').sort()).toEqual(String(answer.body.scope).split(' ').sort());
  });

  it('a quickstart-style non-SMART client gets a token with no scope; the SMART client does not', async () => {
    const { clientId, clientSecret } = system.environments.production;
    const root = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const put = await fetch(`${system.standins.production.url}/fhir/Client/admin-api`, {
      method: 'PUT',
      headers: { Authorization: root, 'Content-Type': 'application/json' },
      body: JSON.stringify({ secret: 'admin-api-secret', grant_types: ['client_credentials', 'basic'] }),
    });
    expect(put.status).toBeLessThan(300);
    const plain = await tokenCall(
      { grant_type: 'client_credentials' },
      `Basic ${Buffer.from('admin-api:admin-api-secret').toString('base64')}`,
    );
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    const smart = await tokenCall(await form(a1, {}, { scope: '' }));
    expect(smart.body.error).toBe('invalid_scope');
  });
});

describe('the product checks what the token endpoint checks', () => {
  it('assertion check: a draft has no production client (accepted false); an active service is accepted', async () => {
    const tokenUrl = a1.production.tokenUrl;
    const draft = await api('POST', `/v1/backend-services/${draftId}/assertion-check`, 'dev', {
      environment: 'production',
      clientAssertion: await assertion(draftId, tokenUrl),
    });
    expect(draft.status).toBe(200);
    expect(draft.body.accepted).toBe(false);
    expect(draft.body.checks.find((c: Json) => c.id === 'client')).toMatchObject({ status: 'failed' });
    // What the real endpoint says about the same kind of assertion.
    const real = await tokenCall({
      ...(await form(a1)),
      client_assertion: await assertion(draftId, tokenUrl),
    });
    expect(real.body.error).toBe('invalid_client');
    // Negative control: the approved service's assertion is accepted by both.
    const active = await api('POST', `/v1/backend-services/${a1.id}/assertion-check`, 'dev', {
      environment: 'production',
      clientAssertion: await assertion(a1.id, tokenUrl),
    });
    expect(active.body.accepted, JSON.stringify(active.body.checks)).toBe(true);
  });

  it('assertion check: a sandbox whose JWKS was refused has no client (accepted false, with the reason)', async () => {
    const created = await api(
      'POST',
      '/v1/backend-services',
      'dev',
      validRegistration({
        organizationId: 'org-payer-a',
        authMethod: { type: 'jwks_uri', jwksUri: jwksUri.replace('/jwks.json', '/refused.json') },
        scopes: { version: 'v2', rules: RULES },
      }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await until(id, (s) => s.credentials.state === 'invalid');
    const sandboxTokenUrl = `${system.standins.sandbox.url}/auth/token`;
    // Every assertion check passes (the key signs), yet the sandbox has no client: not accepted.
    const check = await api('POST', `/v1/backend-services/${id}/assertion-check`, 'dev', {
      environment: 'sandbox',
      clientAssertion: await assertion(id, sandboxTokenUrl),
    });
    expect(check.status).toBe(200);
    expect(check.body.accepted).toBe(false);
    const failed = (check.body.checks as Json[]).filter((c) => c.status !== 'passed').map((c) => c.id);
    expect(failed).toEqual(['client']);
    // What the sandbox's token endpoint answers: it has no such client.
    const real = await fetch(sandboxTokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'system/Patient.rs',
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(id, sandboxTokenUrl),
      }),
    });
    expect(((await real.json()) as Json).error).toBe('invalid_client');
  });

  it('discovery: the SMART configuration URL shown is [FHIR base]/.well-known/smart-configuration and answers', async () => {
    expect(a1.production.smartConfigurationUrl).toBe(
      `${a1.production.fhirBaseUrl}/.well-known/smart-configuration`,
    );
    const document = await fhir(a1.production.smartConfigurationUrl, undefined);
    expect(document.status).toBe(200);
    expect(document.body.token_endpoint).toBe(a1.production.tokenUrl);
    expect(document.body.capabilities).toContain('client-confidential-asymmetric');
  });
});

describe('Bulk Data 2.0 export', () => {
  let t1: string;
  let t2: string;
  let tb: string;
  beforeAll(async () => {
    [t1, t2, tb] = await Promise.all([accessToken(a1), accessToken(a2), accessToken(b)]);
  });

  const kickOffRows: Array<{
    section: string;
    name: string;
    path: string;
    headers: Record<string, string>;
    status: number;
    outcome?: RegExp;
  }> = [
    {
      section: `${BULK}#headers`,
      name: 'without Prefer: respond-async',
      path: '/Patient/$export?_type=Patient',
      headers: { Accept: 'application/fhir+json' },
      status: 400,
      outcome: /respond-async/,
    },
    {
      section: `${BULK}#headers`,
      name: 'Accept other than FHIR JSON',
      path: '/Patient/$export?_type=Patient',
      headers: { Prefer: 'respond-async', Accept: 'application/xml' },
      status: 400,
    },
    {
      section: `${BULK}#query-parameters`,
      name: '_since that is not an instant',
      path: '/Patient/$export?_type=Patient&_since=yesterday',
      headers: ASYNC,
      status: 400,
    },
    {
      section: `${BULK}#query-parameters`,
      name: 'an unsupported parameter, strict handling',
      path: '/Patient/$export?_type=Patient&_elements=id',
      headers: ASYNC,
      status: 400,
    },
    // Our policy on purpose: without _type the export would cover every type (docs/aidbox-contract.md §2.4 step 7).
    {
      section: `${BULK}#query-parameters`,
      name: 'no _type (refused by the derived policy)',
      path: '/Patient/$export',
      headers: ASYNC,
      status: 403,
    },
  ];

  it.each(kickOffRows.map((r) => [r.name, r] as const))('kick-off %s', async (_name, row) => {
    const answer = await fhir(`${a1.production.fhirBaseUrl}${row.path}`, t1, { headers: row.headers });
    expect(answer.status, `${row.section}: ${JSON.stringify(answer.body)}`).toBe(row.status);
    expect(answer.headers.get('content-type')).toBe('application/fhir+json');
    expect(answer.body.resourceType).toBe('OperationOutcome');
    if (row.outcome) expect(JSON.stringify(answer.body.issue)).toMatch(row.outcome);
  });

  it(`the portal's kick-off example (the service's own _type) is accepted (${BULK}#query-parameters)`, async () => {
    expect(a1.production.bulkExportKickOffUrl).toBe(
      `${a1.production.fhirBaseUrl}/$export?_type=Group,Observation,Patient`,
    );
    const answer = await fhir(a1.production.bulkExportKickOffUrl!, t1, { headers: ASYNC });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect((await fhir(answer.headers.get('content-location')!, t1, { method: 'DELETE' })).status).toBe(202);
  });

  it(`status 202 with X-Progress and Retry-After, then the manifest; files need the token (${BULK}#bulk-data-status-request)`, async () => {
    const kickOff = await fhir(`${a1.production.fhirBaseUrl}/Patient/$export?_type=Patient,Observation`, t1, {
      headers: ASYNC,
    });
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers.get('content-location')!;
    const pending = await fhir(statusUrl, t1);
    expect(pending.status).toBe(202);
    expect(pending.headers.get('x-progress')).toBeTruthy();
    expect(pending.headers.get('retry-after')).toMatch(/^\d+$/);
    const done = await fhir(statusUrl, t1);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      requiresAccessToken: true,
      transactionTime: expect.any(String),
      error: [],
    });
    expect(done.body.request).toContain('$export');
    const patients = done.body.output.find((o: Json) => o.type === 'Patient');
    // org-payer-a sees its own and its child's patients (3 + 3), never org-payer-b's.
    expect(patients.count).toBe(6);
    // Output file request (#file-request): 401 without the token, 404 for another client, data for the owner.
    expect((await fhir(patients.url, undefined)).status).toBe(401);
    expect((await fhir(patients.url, t2)).status).toBe(404);
    const file = await fhir(patients.url, t1);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toContain('ndjson');
    expect(file.text.trim().split('\n')).toHaveLength(6);
    expect(file.text).not.toContain('b-pt-');
    // Delete request (#bulk-data-delete-request): 202, then the status is gone.
    expect((await fhir(statusUrl, t1, { method: 'DELETE' })).status).toBe(202);
    expect((await fhir(statusUrl, t1)).status).toBe(404);
  });

  it(`jobs are bound to their client and organization (${BULK}#bulk-data-status-request)`, async () => {
    const kickOff = await fhir(`${a1.production.fhirBaseUrl}/Patient/$export?_type=Patient`, t1, {
      headers: ASYNC,
    });
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers.get('content-location')!;
    const job = statusUrl.split('/').pop()!;
    // Another organization's client, through its own organization's API (which its policies allow).
    const otherOrg = await fhir(`${b.production.fhirBaseUrl}/$export-status/${job}`, tb);
    expect(otherOrg.status).toBe(404);
    // Another client of the same organization.
    expect((await fhir(statusUrl, t2)).status).toBe(404);
    expect((await fhir(statusUrl, t2, { method: 'DELETE' })).status).toBe(404);
    // Negative control: the starting client follows its job.
    expect([200, 202]).toContain((await fhir(statusUrl, t1)).status);
    await fhir(statusUrl, t1, { method: 'DELETE' });
  });

  it(`one running export per client: the same client gets 429 with Retry-After, others are not held up (${BULK}#response---error-eg-unsupported-search-parameter)`, async () => {
    const url = `${a1.production.fhirBaseUrl}/Patient/$export?_type=Patient`;
    const first = await fhir(url, t1, { headers: ASYNC });
    expect(first.status).toBe(202);
    const second = await fhir(url, t1, { headers: ASYNC });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
    const other = await fhir(`${a2.production.fhirBaseUrl}/Patient/$export?_type=Patient`, t2, {
      headers: ASYNC,
    });
    expect(other.status).toBe(202);
    await fhir(first.headers.get('content-location')!, t1, { method: 'DELETE' });
    await fhir(other.headers.get('content-location')!, t2, { method: 'DELETE' });
  });

  it(`_type, _since and _typeFilter are applied (${BULK}#query-parameters)`, async () => {
    const filtered = await exportToManifest(
      a1,
      t1,
      '_type=Observation&_typeFilter=Observation%3Fstatus%3Dfinal',
    );
    expect(filtered.manifest.output.map((o: Json) => o.type)).toEqual(['Observation']);
    expect(filtered.manifest.output[0].count).toBe(6);
    const none = await exportToManifest(
      a1,
      t1,
      '_type=Observation&_typeFilter=Observation%3Fstatus%3Damended',
    );
    expect(none.manifest.output).toEqual([]);
    const future = await exportToManifest(
      a1,
      t1,
      `_type=Patient&_since=${new Date(Date.now() + 86_400_000).toISOString()}`,
    );
    expect(future.manifest.output).toEqual([]);
  });

  it(`error manifest: lenient handling reports the unsupported parameter in error files (${BULK}#response---complete-status)`, async () => {
    const kickOff = await fhir(
      `${a1.production.fhirBaseUrl}/Patient/$export?_type=Patient&_elements=id`,
      t1,
      {
        headers: { ...ASYNC, Prefer: 'respond-async, handling=lenient' },
      },
    );
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers.get('content-location')!;
    await fhir(statusUrl, t1);
    const done = await fhir(statusUrl, t1);
    expect(done.body.error).toEqual([expect.objectContaining({ type: 'OperationOutcome', count: 1 })]);
    const outcomes = await fhir(done.body.error[0].url, t1);
    expect(JSON.parse(outcomes.text.trim()).resourceType).toBe('OperationOutcome');
  });

  it(`the CapabilityStatement lists system, Patient and Group export (${BULK}#bulk-data-kick-off-request)`, async () => {
    const metadata = await fhir(a1.production.capabilityStatementUrl, undefined);
    expect(metadata.status).toBe(200);
    const rest = metadata.body.rest[0];
    expect(rest.operation.map((o: Json) => o.name)).toContain('export');
    const types = rest.resource
      .filter((r: Json) => r.operation?.some((o: Json) => o.name === 'export'))
      .map((r: Json) => r.type);
    expect(types.sort()).toEqual(['Group', 'Patient']);
  });
});

describe('json-schema access policies as Aidbox evaluates them', () => {
  it('a quickstart-shaped allow-admin-tokens policy (constant, not const) lets any JWT with iss through', async () => {
    const { clientId, clientSecret } = system.environments.production;
    const root = {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/json',
    };
    const policyUrl = `${system.standins.production.url}/AccessPolicy/allow-admin-tokens`;
    // A plain (non-SMART) JWT client, as the quickstart has: its token carries iss but no atv, so the
    // policies alone decide (docs/aidbox-contract.md §2.5).
    await fetch(`${system.standins.production.url}/fhir/Client/quickstart-app`, {
      method: 'PUT',
      headers: root,
      body: JSON.stringify({
        secret: 'quickstart-secret',
        grant_types: ['client_credentials'],
        auth: { client_credentials: { token_format: 'jwt' } },
      }),
    });
    const issued = await tokenCall(
      { grant_type: 'client_credentials' },
      `Basic ${Buffer.from('quickstart-app:quickstart-secret').toString('base64')}`,
    );
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    const adminRead = () => fhir(`${system.standins.production.url}/fhir/Client`, token);
    // Negative control first: without the policy this client may not read Aidbox's Clients.
    expect((await adminRead()).status).toBe(403);
    const schema = (keyword: string) => ({
      engine: 'json-schema',
      schema: {
        required: ['jwt'],
        properties: {
          jwt: { required: ['iss'], properties: { iss: { [keyword]: 'https://admin-idp.example' } } },
        },
      },
    });
    try {
      expect(
        (await fetch(policyUrl, { method: 'PUT', headers: root, body: JSON.stringify(schema('constant')) }))
          .status,
      ).toBeLessThan(300);
      expect((await adminRead()).status).toBe(200); // the over-grant, visible
      expect(
        (await fetch(policyUrl, { method: 'PUT', headers: root, body: JSON.stringify(schema('const')) }))
          .status,
      ).toBeLessThan(300);
      expect((await adminRead()).status).toBe(403);
    } finally {
      await fetch(policyUrl, { method: 'DELETE', headers: root });
    }
  });
});
